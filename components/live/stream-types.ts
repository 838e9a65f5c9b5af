/** Wire shapes of the console's SSE streams (lib/upstreams/*), for client components. Type-only imports. */
export type { InfermeshEvent } from "@/lib/upstreams/infermesh";
export type { EmbedWorkerEvent, EmbedWorkerMetrics } from "@/lib/upstreams/embed-worker";
export type { IndexerEvent } from "@/lib/upstreams/indexer";
export type { SparkEvent } from "@/lib/upstreams/spark";
export type { LagEvent, GroupLag } from "@/lib/upstreams/lag";
export type { DlqCountsEvent } from "@/lib/upstreams/dlq-counts";
export type { DirStats } from "@/lib/upstreams/parquet-dir";

import type { DirStats } from "@/lib/upstreams/parquet-dir";

export interface DirRates {
  stats: DirStats;
  rate_rows_per_sec: number | null;
  rate_bytes_per_sec: number | null;
}
export interface VectorizerEvent extends DirRates {
  embeddings: DirRates;
  timestamp: number;
}
