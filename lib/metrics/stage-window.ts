/**
 * Throughput and latency of one pipeline stage over a recent window, for the
 * console's per-stage view (each worker serves `stage_window` on /metrics).
 *
 * A record's latency is "Kafka timestamp of the stage's input record → the
 * moment the stage made its output durable", so time spent waiting in the
 * input topic counts: that is where records wait. Each worker states what its
 * commit point is where it calls `observe`.
 *
 * Memory is bounded whatever the throughput: a ring of the newest
 * `STAGE_SAMPLES_MAX` latencies (two Float64Arrays, 64 KiB) and one counter per
 * second of the window for the rate (exact even when the ring overflows).
 */

/**
 * 60 s: the console polls every 3 s, and its history keeps one event per
 * minute beyond the last hour; a minute's last event then still covers every
 * record of that minute.
 */
export const STAGE_WINDOW_MS = 60_000;
/** Latencies kept: a stable p99 (≥ 40 samples above it) at any rate, bounded memory. Above ~68 records/s the percentiles cover the newest 4096 records of the window. */
export const STAGE_SAMPLES_MAX = 4096;

export interface StageWindowSnapshot {
  window_sec: number;
  /** Records the stage finished (output or dead letter) in the window. */
  records: number;
  records_per_sec: number;
  /** Nearest-rank percentiles over the window's samples; null when no record went through in the window. */
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  /** Latencies the percentiles were taken from (≤ STAGE_SAMPLES_MAX). */
  samples: number;
}

/** Nearest-rank percentile of an ascending array; null when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Kafka's message timestamp (ms since the epoch, as a string) → number; null when missing or invalid (-1). */
function kafkaMs(ts: string | number | null | undefined): number | null {
  const n = typeof ts === "number" ? ts : ts ? Number(ts) : NaN;
  return Number.isFinite(n) && n > 0 ? n : null;
}

export class StageWindow {
  private readonly at: Float64Array;
  private readonly latency: Float64Array;
  private head = 0;
  private size = 0;
  private readonly seconds: number;
  private readonly bucketSec: Float64Array;
  private readonly bucketCount: Float64Array;
  private readonly startedMs: number;

  constructor(
    private readonly opts: { windowMs?: number; capacity?: number; now?: () => number } = {},
  ) {
    const capacity = opts.capacity ?? STAGE_SAMPLES_MAX;
    this.at = new Float64Array(capacity);
    this.latency = new Float64Array(capacity);
    this.seconds = Math.max(1, Math.round((opts.windowMs ?? STAGE_WINDOW_MS) / 1000));
    this.bucketSec = new Float64Array(this.seconds).fill(-1);
    this.bucketCount = new Float64Array(this.seconds);
    this.startedMs = this.now();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /**
   * Records made durable at `atMs`, given their input records' Kafka
   * timestamps. Every record counts for the rate; one without a valid
   * timestamp has no latency sample.
   */
  observe(inputTimestamps: readonly (string | number | null | undefined)[], atMs = this.now()): void {
    if (inputTimestamps.length === 0) return;
    const sec = Math.floor(atMs / 1000);
    const b = sec % this.seconds;
    if (this.bucketSec[b] !== sec) {
      this.bucketSec[b] = sec;
      this.bucketCount[b] = 0;
    }
    this.bucketCount[b]! += inputTimestamps.length;
    for (const ts of inputTimestamps) {
      const t = kafkaMs(ts);
      if (t === null) continue;
      this.at[this.head] = atMs;
      // A producer clock ahead of ours would give a negative wait: it waited ~0.
      this.latency[this.head] = Math.max(0, atMs - t);
      this.head = (this.head + 1) % this.at.length;
      this.size = Math.min(this.size + 1, this.at.length);
    }
  }

  snapshot(nowMs = this.now()): StageWindowSnapshot {
    const windowMs = this.seconds * 1000;
    const fromSec = Math.floor(nowMs / 1000) - this.seconds;
    let records = 0;
    for (let i = 0; i < this.seconds; i++) if (this.bucketSec[i]! > fromSec) records += this.bucketCount[i]!;
    const from = nowMs - windowMs;
    const inWindow: number[] = [];
    for (let i = 0; i < this.size; i++) if (this.at[i]! > from) inWindow.push(this.latency[i]!);
    const sorted = Float64Array.from(inWindow).sort();
    // Before a full window has passed, divide by the time actually covered.
    const covered = Math.max(1_000, Math.min(windowMs, nowMs - this.startedMs));
    const round1 = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
    return {
      window_sec: this.seconds,
      records,
      records_per_sec: Math.round((records / covered) * 1000 * 100) / 100,
      p50_ms: round1(percentile(sorted, 50)),
      p99_ms: round1(percentile(sorted, 99)),
      max_ms: round1(sorted.length ? sorted[sorted.length - 1]! : null),
      samples: sorted.length,
    };
  }
}
