/**
 * The emb-indexer's GET /metrics JSON (workers/indexer/metrics.ts) as Prometheus
 * text, for GET /metrics/prometheus. Reads the JSON rather than the counters so
 * both routes always show the same figures; fields an older indexer lacks
 * (instance, partitions) are simply left out.
 */
import { PrometheusText } from "./prometheus";
import type { StageWindowSnapshot } from "./stage-window";

/** What is read of the indexer's /metrics answer. */
export interface IndexerMetricsView {
  started_ts: number;
  records_in: number;
  invalid_records: number;
  inserted: number;
  updated: number;
  evicted: number;
  refused_dim: number;
  zero_vectors: number;
  batches: number;
  last_batch_ts: number | null;
  last_batch_ms: number | null;
  lag: { total: number; partitions: Record<string, number> };
  total_ids: number;
  dim: number | null;
  model: string | null;
  queries: { count: number; errors: number; p50_ms: number | null; p99_ms: number | null };
  exact_scans: { running: number; waiting: number; refused: number };
  recall_at_10: number | null;
  snapshots: { saved: number; last_ts: number | null };
  mirror: { records: number; failures: number; refused: number };
  dead_letters: { total: number; by_reason: Partial<Record<string, number>>; produce_failures: number };
  batch_retries: number;
  isolations: number;
  stage_window: StageWindowSnapshot;
  /** Issue 15: this instance's id and the partitions of the embeddings topic it owns. */
  instance?: string;
  partitions?: { partition: number; state: "loading" | "live"; applied: number; end: number | null }[];
}

const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);

export function indexerPrometheus(m: IndexerMetricsView): string {
  const out = new PrometheusText("embedline_indexer_");
  // An info metric: the labels carry the facts, the value is always 1.
  const info: Record<string, string | number> = { model: m.model ?? "" };
  if (m.instance !== undefined) info.instance_id = m.instance;
  if (m.dim !== null) info.dim = m.dim;
  out.gauge("info", "This indexer's instance id (INDEXER_INSTANCE), model and dimension of the vectors it holds.", [{ labels: info, value: 1 }]);
  out.gauge("start_time_seconds", "Start time of the indexer, seconds since the epoch.", m.started_ts);
  out.gauge("documents", "Documents held (searchable) by this instance.", m.total_ids);
  out.counter("records_in_total", "Records read from the embeddings topic.", m.records_in);
  out.counter("invalid_records_total", "Records that were not a valid embedding record.", m.invalid_records);
  out.counter("inserted_total", "Documents added to the index.", m.inserted);
  out.counter("updated_total", "Documents replaced by a newer vector.", m.updated);
  out.counter("evicted_total", "Documents evicted from a full shard.", m.evicted);
  out.counter("refused_dim_total", "Records refused for a dimension other than the index's.", m.refused_dim);
  out.counter("zero_vectors_total", "Records refused for a zero vector.", m.zero_vectors);
  out.counter("batches_total", "Batches applied to the index.", m.batches);
  out.gauge("last_batch_time_seconds", "When the last batch was applied, seconds since the epoch.", m.last_batch_ts);
  out.gauge("last_batch_duration_seconds", "How long the last batch took to apply.", seconds(m.last_batch_ms));
  out.gauge("consumer_lag", "Offsets of the embeddings topic not yet applied, by partition this instance owns.", Object.entries(m.lag.partitions).map(([partition, value]) => ({ labels: { partition }, value })));
  if (m.partitions) {
    out.gauge("partition_live", "1 once an owned partition has caught up with its end as seen at assignment (answers from it are complete), 0 while loading.", m.partitions.map((p) => ({ labels: { partition: p.partition }, value: p.state === "live" ? 1 : 0 })));
    out.gauge("partition_applied_offset", "Next offset to apply, by owned partition.", m.partitions.map((p) => ({ labels: { partition: p.partition }, value: p.applied })));
  }
  out.counter("queries_total", "kNN queries answered.", m.queries.count);
  out.counter("query_errors_total", "kNN queries answered with an error.", m.queries.errors);
  out.gauge("query_latency_p50_seconds", "Median kNN query time over the last 2048 queries.", seconds(m.queries.p50_ms));
  out.gauge("query_latency_p99_seconds", "p99 kNN query time over the last 2048 queries.", seconds(m.queries.p99_ms));
  out.gauge("exact_scans_running", "Exact scans running.", m.exact_scans.running);
  out.gauge("exact_scans_waiting", "Exact scans waiting for their turn.", m.exact_scans.waiting);
  out.counter("exact_scans_refused_total", "Queries refused (429) because the exact scans' line was full.", m.exact_scans.refused);
  out.gauge("recall_at_10", "Measured recall@10 of the HNSW graph against exact search (absent until measured).", m.recall_at_10);
  out.counter("snapshots_saved_total", "Graph snapshots saved.", m.snapshots.saved);
  out.counter("mirror_records_total", "Records mirrored to RedDB.", m.mirror.records);
  out.counter("mirror_failures_total", "Failed RedDB mirror writes (retried).", m.mirror.failures);
  out.counter("dead_letters_total", "Records dead-lettered by the index stage, by reason.", Object.entries(m.dead_letters.by_reason).map(([reason, value]) => ({ labels: { reason }, value })));
  out.counter("batch_retries_total", "Batches that failed for an unclassified reason and were tried again.", m.batch_retries);
  out.counter("isolations_total", "Batches applied one record at a time after repeated failures.", m.isolations);
  out.gauge("stage_records_per_second", "Records the index stage applied per second over the last minute.", m.stage_window.records_per_sec);
  out.gauge("stage_latency_p50_seconds", "Median over the last minute of embeddings record timestamp to searchable.", seconds(m.stage_window.p50_ms));
  out.gauge("stage_latency_p99_seconds", "p99 over the last minute of embeddings record timestamp to searchable.", seconds(m.stage_window.p99_ms));
  return out.toString();
}
