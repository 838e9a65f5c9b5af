"use client";

import { TimeSeriesChart } from "@/components/charts/time-series-chart";
import type { DirRates, VectorizerEvent } from "@/components/live/stream-types";
import { useChartWindow } from "@/components/live/chart-window";
import { useWindowStream } from "@/components/live/use-window-stream";
import { Card } from "@/components/ui/card";
import { formatBytes, formatCompact, formatCount, formatRate } from "@/components/ui/format";
import { Stat, StatGrid } from "@/components/ui/stat";
import { toPoints } from "./points";

function DirStats({ label, d }: { label: string; d: DirRates | undefined }) {
  if (d && !d.stats.enabled) return <Stat label={label} value={<span className="text-sm text-muted">disabled</span>} />;
  // Compact figures with units; the exact row and byte counts in the tooltip.
  return <Stat label={label} value={`${formatCompact(d?.stats.rows_est)} rows · ${formatBytes(d?.stats.bytes)}`} title={`${formatCount(d?.stats.rows_est)} rows · ${formatCount(d?.stats.bytes)} bytes`} />;
}

/** Parquet throughput from footers' row counts: the parse stage's (VEC_OUTPUT_DIR) and the embed-worker's. */
export function ThroughputPanel() {
  const [chartWindow] = useChartWindow();
  const feed = useWindowStream<VectorizerEvent>("vectorizer", chartWindow);
  const d = feed.latest;
  return (
    <Card title="Parquet throughput" data-testid="panel-throughput">
      <StatGrid>
        <DirStats label="vectorizer" d={d} />
        <Stat label="vectorizer rows/s" value={formatRate(d?.rate_rows_per_sec)} />
        <DirStats label="embeddings" d={d?.embeddings} />
        <Stat label="embeddings rows/s" value={formatRate(d?.embeddings.rate_rows_per_sec)} data-testid="embed-parquet-rate" />
      </StatGrid>
      {d?.embeddings.stats.error && <p className="px-4 text-xs text-muted">embeddings: {d.embeddings.stats.error}</p>}
      <TimeSeriesChart
        from={feed.from}
        to={feed.to}
        data-testid="chart-throughput"
        points={toPoints(feed.events, (e) => ({ vectorizer: e.rate_rows_per_sec, embeddings: e.embeddings.rate_rows_per_sec }))}
        series={[{ key: "vectorizer", label: "vectorizer rows/s", color: "var(--accent)" }, { key: "embeddings", label: "embeddings rows/s", color: "var(--ok)" }]}
        format={(v) => String(Number(v.toPrecision(3)))}
      />
    </Card>
  );
}
