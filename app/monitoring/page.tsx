import type { Metadata } from "next";
import { EmbedWorkerPanel } from "@/components/monitoring/embed-worker-panel";
import { IndexPanel } from "@/components/monitoring/index-panel";
import { InfermeshPanel } from "@/components/monitoring/infermesh-panel";
import { SparkPanel } from "@/components/monitoring/spark-panel";
import { ThroughputPanel } from "@/components/monitoring/throughput-panel";

export const metadata: Metadata = { title: "Monitoring" };

export default function MonitoringPage() {
  return (
    <div className="grid gap-4 lg:grid-cols-2" data-testid="monitoring-page">
      <h1 className="sr-only">Monitoring</h1>
      <InfermeshPanel />
      <EmbedWorkerPanel />
      <SparkPanel />
      <ThroughputPanel />
      <IndexPanel />
    </div>
  );
}
