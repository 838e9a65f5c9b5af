"use client";

import type { EmbedWorkerEvent, IndexerEvent, InfermeshEvent, LagEvent, SparkEvent } from "@/components/live/stream-types";
import { useStream } from "@/components/live/use-stream";
import { indexSize } from "@/components/monitoring/index-panel";
import { formatCount, formatRate } from "@/components/ui/format";
import { StatusBadge, type StatusTone } from "@/components/ui/status-badge";

interface Stage {
  key: string;
  label: string;
  tone: StatusTone;
  status: string;
  figure: string;
}

function Box({ s }: { s: Stage }) {
  return (
    <li className="flex min-w-36 flex-1 flex-col gap-1 rounded-lg border border-line bg-surface p-3" data-testid={`stage-${s.key}`}>
      <span className="text-xs font-semibold">{s.label}</span>
      <StatusBadge tone={s.tone} label={s.status} data-testid={`stage-${s.key}-status`} />
      <span className="text-xs tabular-nums text-muted">{s.figure}</span>
    </li>
  );
}

/** The pipeline left to right, each stage with its live status and throughput. */
export function PipelineDiagram() {
  const lag = useStream<LagEvent>("lag").latest;
  const spark = useStream<SparkEvent>("spark").latest;
  const worker = useStream<EmbedWorkerEvent>("embed-worker").latest;
  const mesh = useStream<InfermeshEvent>("infermesh").latest;
  const index = useStream<IndexerEvent>("indexer").latest;
  const wait = { tone: "unknown" as const, status: "waiting", figure: "" };
  const parseRate = spark?.streaming?.processed_rows_per_sec ?? (spark?.parse_worker?.rate as number | undefined);
  const stages: Stage[] = [
    lag ? ("error" in lag ? { key: "kafka", label: "Kafka", tone: "down", status: "unreachable", figure: "" } : { key: "kafka", label: "Kafka", tone: "ok", status: "ok", figure: `lag ${formatCount(lag.total_lag)}` }) : { key: "kafka", label: "Kafka", ...wait },
    spark ? { key: "parse", label: spark.status === "running" ? "Parse (Spark)" : "Parse", tone: spark.status === "running" || spark.parse_worker ? "ok" : "down", status: spark.status === "running" ? "running" : spark.parse_worker ? "parse worker" : "not running", figure: formatRate(parseRate) } : { key: "parse", label: "Parse", ...wait },
    worker ? ("metrics" in worker ? { key: "embed-worker", label: "Embed worker", tone: worker.metrics.paused ? "warn" : "ok", status: worker.metrics.paused ? "paused" : (worker.metrics.status ?? "ok"), figure: formatRate(worker.rates.records_out_per_sec) } : { key: "embed-worker", label: "Embed worker", tone: "down", status: "unreachable", figure: "" }) : { key: "embed-worker", label: "Embed worker", ...wait },
    mesh ? { key: "embedding", label: "Embedding service", tone: mesh.infermesh.status === "healthy" ? "ok" : "down", status: mesh.infermesh.status, figure: formatRate(mesh.rows_per_sec) } : { key: "embedding", label: "Embedding service", ...wait },
    index ? ("metrics" in index ? { key: "indexer", label: "Indexer", tone: "ok", status: "ok", figure: `${formatCount(indexSize(index.metrics))} vectors` } : { key: "indexer", label: "Indexer", tone: "down", status: "unreachable", figure: "" }) : { key: "indexer", label: "Indexer", ...wait },
  ];
  return (
    <ol className="flex flex-wrap items-stretch gap-2" data-testid="pipeline-diagram" aria-label="pipeline">
      {stages.map((s) => <Box key={s.key} s={s} />)}
    </ol>
  );
}
