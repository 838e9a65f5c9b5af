import { StageWindow, type StageWindowSnapshot } from "../../lib/metrics/stage-window";
import type { DlqReason } from "../../lib/records/dlq-record";

/** Window of the `rate` figure: long enough to smooth batch bursts, short enough to show a stall. */
const RATE_WINDOW_MS = 10_000;

export interface ParseMetricsSnapshot {
  started_ts: number;
  records_in: number;
  records_out: number;
  dlq_records: number;
  dlq_by_reason: Partial<Record<DlqReason, number>>;
  batches: number;
  transactions_aborted: number;
  last_batch_ts: number | null;
  /** Records read per second over the last `rate_window_sec`. */
  rate: number;
  rate_window_sec: number;
  /**
   * The parse stage's records/s and latency over the last minute. Latency: the
   * Kafka timestamp of the raw record (agent.results) → the commit of the
   * transaction that wrote its embedding_input record (or its dead letter).
   */
  stage_window: StageWindowSnapshot;
}

/** Counters of the parse worker, served as JSON on /metrics. */
export class ParseMetrics {
  private readonly startedMs: number;
  private recordsIn = 0;
  private recordsOut = 0;
  private dlqRecords = 0;
  private readonly dlqByReason: Partial<Record<DlqReason, number>> = {};
  private batches = 0;
  private aborted = 0;
  private lastBatchMs: number | null = null;
  /** (time, records) per committed batch inside the rate window, oldest first. */
  private recent: { atMs: number; count: number }[] = [];
  private readonly stage: StageWindow;

  constructor(private readonly now: () => number = Date.now) {
    this.startedMs = now();
    this.stage = new StageWindow({ now });
  }

  /** A batch whose transaction committed; `inputTimestamps`: the Kafka timestamps of its raw records. */
  batchCommitted(recordsIn: number, recordsOut: number, deadByReason: Partial<Record<DlqReason, number>>, inputTimestamps: readonly (string | null | undefined)[] = []): void {
    const atMs = this.now();
    this.batches += 1;
    this.recordsIn += recordsIn;
    this.recordsOut += recordsOut;
    for (const [reason, n] of Object.entries(deadByReason) as [DlqReason, number][]) {
      this.dlqRecords += n;
      this.dlqByReason[reason] = (this.dlqByReason[reason] ?? 0) + n;
    }
    this.lastBatchMs = atMs;
    this.recent.push({ atMs, count: recordsIn });
    this.prune(atMs);
    this.stage.observe(inputTimestamps, atMs);
  }

  transactionAborted(): void {
    this.aborted += 1;
  }

  snapshot(): ParseMetricsSnapshot {
    const nowMs = this.now();
    this.prune(nowMs);
    // Before a full window has passed, divide by the time actually covered.
    const windowMs = Math.max(1, Math.min(RATE_WINDOW_MS, nowMs - this.startedMs));
    const inWindow = this.recent.reduce((n, s) => n + s.count, 0);
    return {
      started_ts: this.startedMs / 1000,
      records_in: this.recordsIn,
      records_out: this.recordsOut,
      dlq_records: this.dlqRecords,
      dlq_by_reason: { ...this.dlqByReason },
      batches: this.batches,
      transactions_aborted: this.aborted,
      last_batch_ts: this.lastBatchMs === null ? null : this.lastBatchMs / 1000,
      rate: Math.round((inWindow / windowMs) * 1000 * 10) / 10,
      rate_window_sec: RATE_WINDOW_MS / 1000,
      stage_window: this.stage.snapshot(nowMs),
    };
  }

  private prune(nowMs: number): void {
    const from = nowMs - RATE_WINDOW_MS;
    while (this.recent.length > 0 && this.recent[0]!.atMs < from) this.recent.shift();
  }
}
