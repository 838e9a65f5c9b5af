/**
 * The parse worker's GET /metrics JSON (workers/parse/metrics.ts) as Prometheus
 * text, for GET /metrics/prometheus: same figures, Prometheus names and types.
 */
import { PrometheusText } from "./prometheus";
import type { StageWindowSnapshot } from "./stage-window";

/** What is read of the parse worker's /metrics snapshot. */
export interface ParseMetricsView {
  started_ts: number;
  records_in: number;
  records_out: number;
  dlq_records: number;
  dlq_by_reason: Partial<Record<string, number>>;
  batches: number;
  transactions_aborted: number;
  last_batch_ts: number | null;
  stage_window: StageWindowSnapshot;
}

export function parsePrometheus(m: ParseMetricsView): string {
  const out = new PrometheusText("embedline_parse_");
  out.gauge("start_time_seconds", "Start time of the parse worker, seconds since the epoch.", m.started_ts);
  out.counter("records_in_total", "Raw records read from the input topics and committed.", m.records_in);
  out.counter("records_out_total", "embedding_input records committed.", m.records_out);
  out.counter("dlq_records_total", "Records committed to the parse dead-letter topic.", m.dlq_records);
  out.counter(
    "dlq_records_by_reason_total",
    "Records committed to the parse dead-letter topic, by reason.",
    Object.entries(m.dlq_by_reason).map(([reason, value]) => ({ labels: { reason }, value })),
  );
  out.counter("batches_total", "Batches committed (one Kafka transaction each).", m.batches);
  out.counter("transactions_aborted_total", "Kafka transactions aborted (their batch is read again).", m.transactions_aborted);
  out.gauge("last_batch_time_seconds", "When the last batch committed, seconds since the epoch.", m.last_batch_ts);
  out.gauge("stage_records_per_second", "Records the parse stage committed per second over the last minute.", m.stage_window.records_per_sec);
  // Absent rather than 0 while no record went through in the last minute.
  out.gauge("stage_latency_p50_seconds", "Median over the last minute of raw record timestamp to its embedding_input record committed.", m.stage_window.p50_ms === null ? null : m.stage_window.p50_ms / 1000);
  out.gauge("stage_latency_p99_seconds", "p99 over the last minute of raw record timestamp to its embedding_input record committed.", m.stage_window.p99_ms === null ? null : m.stage_window.p99_ms / 1000);
  return out.toString();
}
