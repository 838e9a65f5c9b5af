"use client";

import { TimeSeriesChart } from "@/components/charts/time-series-chart";
import type { IndexerEvent } from "@/components/live/stream-types";
import { useChartWindow } from "@/components/live/chart-window";
import { useWindowStream } from "@/components/live/use-window-stream";
import { Card } from "@/components/ui/card";
import { formatCount } from "@/components/ui/format";
import { Stat, StatGrid, Unavailable } from "@/components/ui/stat";
import { StatusBadge } from "@/components/ui/status-badge";
import { toPoints } from "./points";

/** First number found under any of `keys` (the indexer's /metrics names are its own). */
export function metric(m: Record<string, unknown> | undefined, ...keys: string[]): number | null {
  for (const k of keys) {
    const v = k.split(".").reduce<unknown>((o, p) => (o && typeof o === "object" ? (o as Record<string, unknown>)[p] : undefined), m);
    if (typeof v === "number" && Number.isFinite(v)) return v;
  }
  return null;
}

export const indexSize = (m?: Record<string, unknown>) => metric(m, "total_ids", "vectors", "count", "index.total_ids");
export const recallAt10 = (m?: Record<string, unknown>) => metric(m, "recall_at_10", "recall.at_10", "recall.latest", "recall10");

/** Index: size and the live recall@10 trend (HNSW vs exact). */
export function IndexPanel() {
  const [chartWindow] = useChartWindow();
  const feed = useWindowStream<IndexerEvent>("indexer", chartWindow);
  const d = feed.latest;
  const m = d && "metrics" in d ? d.metrics : undefined;
  return (
    <Card title="Index" aside={<StatusBadge tone={!d ? "unknown" : m ? "ok" : "down"} label={!d ? "waiting" : m ? "ok" : "unreachable"} data-testid="indexer-status" />} data-testid="panel-index">
      {d && !m ? (
        <Unavailable what="indexer not running or unreachable" message={"message" in d ? d.message : undefined} />
      ) : (
        <StatGrid>
          <Stat label="vectors" value={formatCount(indexSize(m))} />
          <Stat label="recall@10" value={recallAt10(m)?.toFixed(3) ?? "—"} data-testid="index-recall" />
          {/* Every indexer of the group: vectors summed, recall weighted by what each holds (lib/upstreams/indexer-figures.ts). */}
          {d?.instances && d.instances.length > 1 && <Stat label="indexers" value={`${d.instances.filter((i) => i.ok).length} of ${d.instances.length} answering`} data-testid="index-instances" />}
        </StatGrid>
      )}
      <TimeSeriesChart from={feed.from} to={feed.to} data-testid="chart-recall" points={toPoints(feed.events, (e) => ("metrics" in e ? { recall: recallAt10(e.metrics) } : { recall: null }))} series={[{ key: "recall", label: "recall@10", color: "var(--accent)" }]} format={(v) => v.toFixed(2)} />
    </Card>
  );
}
