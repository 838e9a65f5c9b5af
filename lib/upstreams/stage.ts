/**
 * One pipeline stage's figures as the console's streams carry them (the
 * `stage` of the embed-worker and indexer events, `parse_stage` of the spark
 * event), taken from the worker's `stage_window` (lib/metrics/stage-window.ts):
 * records/s and p50/p99 latency over the worker's last minute. Latency is the
 * input record's Kafka timestamp → the stage's commit.
 */
export interface StageFigures {
  records_per_sec: number | null;
  /** Records through the stage in the worker's window. */
  records: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  window_sec: number | null;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : null);

/** The `stage_window` of a worker's /metrics JSON; null when the worker does not publish one (an older build). */
export function stageFigures(metrics: unknown): StageFigures | null {
  const w = metrics && typeof metrics === "object" ? (metrics as { stage_window?: unknown }).stage_window : undefined;
  if (!w || typeof w !== "object") return null;
  const o = w as Record<string, unknown>;
  return { records_per_sec: num(o.records_per_sec), records: num(o.records), p50_ms: num(o.p50_ms), p99_ms: num(o.p99_ms), window_sec: num(o.window_sec) };
}
