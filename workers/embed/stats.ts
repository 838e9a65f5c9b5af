/**
 * The embed-worker's counters: one object, read by GET /metrics (the seed's
 * field names plus ours) and rendered as Prometheus text by /metrics/prometheus.
 */

import { StageWindow } from "../../lib/metrics/stage-window";

/** Upper bounds (seconds) of the embed-call duration histogram: 5 ms … 30 s. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class WorkerStats {
  readonly startedTs = Date.now() / 1000;
  /** Embed calls made for batches (one per closed batch, cache-only ones included). */
  batches = 0;
  recordsIn = 0;
  recordsOut = 0;
  dlqRecords = 0;
  lastFlushTs: number | null = null;
  lastRttMs: number | null = null;
  totalCalls = 0;
  failures = 0;
  lastBatchSize = 0;
  private batchedRecords = 0;
  transactions = 0;
  transactionFailures = 0;
  parquetFiles = 0;
  parquetRows = 0;
  reddbWrites = 0;
  reddbFailures = 0;
  readonly lagByPartition = new Map<number, number>();
  /** Input partitions this worker was given at the last rebalance. */
  assignedPartitions: number[] = [];
  /**
   * The embed stage's records/s and latency over the last minute. Latency: the
   * Kafka timestamp of the embedding_input record → the commit of the
   * transaction that wrote its embedding (or its dead letter).
   */
  readonly stage = new StageWindow();
  private readonly durationCounts = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  private durationSum = 0;

  recordBatch(size: number): void {
    this.batches++;
    this.lastBatchSize = size;
    this.batchedRecords += size;
    this.lastFlushTs = Date.now() / 1000;
  }

  recordCall(rttMs: number): void {
    this.totalCalls++;
    this.lastRttMs = rttMs;
    const s = rttMs / 1000;
    this.durationSum += s;
    const i = DURATION_BUCKETS.findIndex((b) => s <= b);
    this.durationCounts[i === -1 ? DURATION_BUCKETS.length : i]! += 1;
  }

  json(extra: { cache?: { hits: number; misses: number; size: number; capacity: number }; paused: boolean; status: string }) {
    const lag = [...this.lagByPartition.values()].reduce((a, b) => a + b, 0);
    return {
      started_ts: this.startedTs,
      batches: this.batches,
      records_in: this.recordsIn,
      records_out: this.recordsOut,
      last_flush_ts: this.lastFlushTs,
      last_infermesh_rtt_ms: this.lastRttMs,
      total_infermesh_calls: this.totalCalls,
      infermesh_failures: this.failures,
      dlq_records: this.dlqRecords,
      batch_size_last: this.lastBatchSize,
      batch_size_avg: this.batches === 0 ? 0 : this.batchedRecords / this.batches,
      lag,
      lag_by_partition: Object.fromEntries(this.lagByPartition),
      assigned_partitions: this.assignedPartitions,
      cache: extra.cache ?? null,
      transactions: this.transactions,
      transaction_failures: this.transactionFailures,
      parquet_files: this.parquetFiles,
      parquet_rows: this.parquetRows,
      reddb_writes: this.reddbWrites,
      reddb_failures: this.reddbFailures,
      paused: extra.paused,
      status: extra.status,
      stage_window: this.stage.snapshot(),
    };
  }

  prometheus(extra: { cache?: { hits: number; misses: number; size: number }; paused: boolean; degraded: boolean }): string {
    const p = "embedline_embed_worker_";
    const lines: string[] = [];
    const metric = (name: string, type: "counter" | "gauge", help: string, value: number) => {
      lines.push(`# HELP ${p}${name} ${help}`, `# TYPE ${p}${name} ${type}`, `${p}${name} ${value}`);
    };
    metric("start_time_seconds", "gauge", "Start time of the worker, seconds since the epoch.", this.startedTs);
    metric("records_in_total", "counter", "Records consumed from the input topic.", this.recordsIn);
    metric("records_out_total", "counter", "Embedding records committed to the output topic.", this.recordsOut);
    metric("dlq_records_total", "counter", "Records committed to the dead-letter topic.", this.dlqRecords);
    metric("batches_total", "counter", "Batches sent to the embedding service.", this.batches);
    metric("embed_calls_total", "counter", "Calls to the embedding service that answered.", this.totalCalls);
    metric("embed_failures_total", "counter", "Batches the embedding service failed (outages waited out, rejections).", this.failures);
    metric("transactions_total", "counter", "Kafka transactions committed.", this.transactions);
    metric("transaction_failures_total", "counter", "Kafka transactions that failed and were redone.", this.transactionFailures);
    metric("parquet_files_total", "counter", "Parquet files written.", this.parquetFiles);
    metric("parquet_rows_total", "counter", "Rows written to Parquet.", this.parquetRows);
    metric("reddb_writes_total", "counter", "Records written to RedDB.", this.reddbWrites);
    metric("reddb_failures_total", "counter", "Failed RedDB write rounds (retried).", this.reddbFailures);
    metric("batch_size", "gauge", "Records in the last batch.", this.lastBatchSize);
    const stage = this.stage.snapshot();
    metric("stage_records_per_second", "gauge", "Records the embed stage committed per second over the last minute.", stage.records_per_sec);
    // Absent rather than 0 while no record went through in the last minute: 0 would claim records flowed without waiting.
    if (stage.p50_ms !== null) metric("stage_latency_p50_seconds", "gauge", "Median over the last minute of embedding_input record timestamp to its embedding committed.", stage.p50_ms / 1000);
    if (stage.p99_ms !== null) metric("stage_latency_p99_seconds", "gauge", "p99 over the last minute of embedding_input record timestamp to its embedding committed.", stage.p99_ms / 1000);
    metric("consumer_lag", "gauge", "Offsets behind the input topic's end after the last commit, over assigned partitions: 0 when caught up (the commit goes past transaction markers); while records wait it also counts one marker per input transaction (the console's lag counts records exactly).", [...this.lagByPartition.values()].reduce((a, b) => a + b, 0));
    metric("paused", "gauge", "1 while consumption is paused by an operator.", extra.paused ? 1 : 0);
    metric("degraded", "gauge", "1 while a dependency is unavailable or an input partition is not advancing (see /health).", extra.degraded ? 1 : 0);
    if (extra.cache) {
      metric("cache_hits_total", "counter", "Texts answered from the embedding cache.", extra.cache.hits);
      metric("cache_misses_total", "counter", "Texts not in the embedding cache.", extra.cache.misses);
      metric("cache_entries", "gauge", "Entries in the embedding cache.", extra.cache.size);
    }
    const h = `${p}embed_duration_seconds`;
    lines.push(`# HELP ${h} Round trip of calls to the embedding service.`, `# TYPE ${h} histogram`);
    let cumulative = 0;
    DURATION_BUCKETS.forEach((b, i) => {
      cumulative += this.durationCounts[i]!;
      lines.push(`${h}_bucket{le="${b}"} ${cumulative}`);
    });
    lines.push(`${h}_bucket{le="+Inf"} ${this.totalCalls}`, `${h}_sum ${this.durationSum}`, `${h}_count ${this.totalCalls}`);
    return `${lines.join("\n")}\n`;
  }
}
