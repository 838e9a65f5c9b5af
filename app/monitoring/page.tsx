import type { Metadata } from "next";
import { EmbedWorkerPanel } from "@/components/monitoring/embed-worker-panel";
import { IndexPanel } from "@/components/monitoring/index-panel";
import { InfermeshPanel } from "@/components/monitoring/infermesh-panel";
import { SparkPanel } from "@/components/monitoring/spark-panel";
import { ThroughputPanel } from "@/components/monitoring/throughput-panel";
import { WindowSelect } from "@/components/ui/window-select";

export const metadata: Metadata = { title: "Monitoring" };

export default function MonitoringPage() {
  return (
    <div className="grid gap-4 lg:grid-cols-2" data-testid="monitoring-page">
      <div className="flex items-center justify-between gap-4 lg:col-span-2">
        <h1 className="text-lg font-semibold">Monitoring</h1>
        <WindowSelect />
      </div>
      <InfermeshPanel />
      <EmbedWorkerPanel />
      <SparkPanel />
      <ThroughputPanel />
      <IndexPanel />
    </div>
  );
}
