import { StageWindow } from "../../lib/metrics/stage-window";
import type { RecallReport } from "../../lib/index/recall-monitor";
import type { DlqReason } from "../../lib/records/dlq-record";
import type { PartitionState } from "./ownership";

/** Latencies kept for the query percentiles: enough for a stable p99, bounded memory. */
const LATENCY_WINDOW = 2048;

const pct = (sorted: number[], p: number) => (sorted.length === 0 ? null : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number));

/** Counters of the emb-indexer, served as JSON by GET /metrics. */
export class IndexerMetrics {
  readonly startedTs = Date.now();
  recordsIn = 0;
  invalidRecords = 0;
  inserted = 0;
  updated = 0;
  evicted = 0;
  refusedDim = 0;
  zeroVectors = 0;
  alreadyApplied = 0;
  batches = 0;
  lastBatchTs: number | null = null;
  lastBatchMs: number | null = null;
  mirrored = 0;
  mirrorFailures = 0;
  /** Mirror writes RedDB refused for good (left out of the mirror; the documents are indexed). */
  mirrorRefused = 0;
  snapshotsSaved = 0;
  lastSnapshotTs: number | null = null;
  queries = 0;
  queryErrors = 0;
  /** Queries refused with 429 because the exact scans' line was full (exact-gate.ts). */
  scansRefused = 0;
  /** Batches that failed for an unclassified reason and were tried again. */
  batchRetries = 0;
  /** Batches whose records were applied one by one after `maxAttempts` failures. */
  isolations = 0;
  /** Produce requests to the dead-letter topic that failed (and were retried). */
  deadLetterFailures = 0;
  /** Documents that left the index because their partition moved to another indexer of the group. */
  released = 0;
  /** Records dead-lettered by the index stage, by reason. */
  readonly deadLetters = new Map<DlqReason, number>();
  /** Per partition: high watermark minus the next offset to apply. */
  readonly lag = new Map<number, number>();
  private readonly latencies: number[] = [];
  /**
   * The index stage's records/s and latency over the last minute. Latency: the
   * Kafka timestamp of the embeddings record → its batch applied to the index
   * (searchable; or dead-lettered), before the group's offset commit.
   */
  readonly stage = new StageWindow();

  deadLettered(reason: DlqReason): void {
    this.deadLetters.set(reason, (this.deadLetters.get(reason) ?? 0) + 1);
  }

  observeQuery(ms: number): void {
    this.queries++;
    this.latencies.push(ms);
    if (this.latencies.length > LATENCY_WINDOW) this.latencies.shift();
  }

  toJSON(extra: { total_ids: number; dim: number | null; model: string | null; recall: RecallReport; scans?: { running: number; waiting: number }; instance?: string; partitions?: PartitionState[] }) {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      /** This indexer's id in its group (INDEXER_INSTANCE) and the partitions it owns, loading or live. */
      instance: extra.instance,
      partitions: extra.partitions ?? [],
      started_ts: this.startedTs / 1000,
      uptime_s: Math.round((Date.now() - this.startedTs) / 1000),
      records_in: this.recordsIn,
      invalid_records: this.invalidRecords,
      inserted: this.inserted,
      released: this.released,
      updated: this.updated,
      evicted: this.evicted,
      refused_dim: this.refusedDim,
      zero_vectors: this.zeroVectors,
      already_applied: this.alreadyApplied,
      batches: this.batches,
      last_batch_ts: this.lastBatchTs === null ? null : this.lastBatchTs / 1000,
      last_batch_ms: this.lastBatchMs,
      lag: { total: [...this.lag.values()].reduce((a, b) => a + b, 0), partitions: Object.fromEntries(this.lag) },
      total_ids: extra.total_ids,
      dim: extra.dim,
      /** The model whose vectors the index holds (null while empty). */
      model: extra.model,
      queries: { count: this.queries, errors: this.queryErrors, p50_ms: pct(sorted, 50), p99_ms: pct(sorted, 99) },
      /** Exact scans (exact: true, or a filter the graph could not serve) running, waiting and refused (429). */
      exact_scans: { ...(extra.scans ?? { running: 0, waiting: 0 }), refused: this.scansRefused },
      recall_at_10: extra.recall.recall_at_10,
      recall: extra.recall,
      snapshots: { saved: this.snapshotsSaved, last_ts: this.lastSnapshotTs === null ? null : this.lastSnapshotTs / 1000 },
      mirror: { records: this.mirrored, failures: this.mirrorFailures, refused: this.mirrorRefused },
      dead_letters: {
        total: [...this.deadLetters.values()].reduce((a, b) => a + b, 0),
        by_reason: Object.fromEntries(this.deadLetters),
        produce_failures: this.deadLetterFailures,
      },
      batch_retries: this.batchRetries,
      isolations: this.isolations,
      stage_window: this.stage.snapshot(),
    };
  }
}
