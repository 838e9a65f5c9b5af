/**
 * The embed-worker's counters: one object, read by GET /metrics (the seed's
 * field names plus ours) and rendered as Prometheus text by /metrics/prometheus.
 */

import { redactUrl } from "../../lib/config/redact";
import type { UpstreamSnapshot } from "../../lib/embedding";
import { PrometheusText } from "../../lib/metrics/prometheus";
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

  json(extra: { cache?: { hits: number; misses: number; size: number; capacity: number }; paused: boolean; status: string; upstreams?: UpstreamSnapshot[] }) {
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
      /** Each INFERMESH_URL instance: in rotation or ejected, calls in flight, its figures (URL credentials redacted). */
      upstreams: (extra.upstreams ?? []).map((u) => ({ ...u, url: redactUrl(u.url) })),
    };
  }

  prometheus(extra: { cache?: { hits: number; misses: number; size: number }; paused: boolean; degraded: boolean; upstreams?: UpstreamSnapshot[] }): string {
    const out = new PrometheusText("embedline_embed_worker_");
    out.gauge("start_time_seconds", "Start time of the worker, seconds since the epoch.", this.startedTs);
    out.counter("records_in_total", "Records consumed from the input topic.", this.recordsIn);
    out.counter("records_out_total", "Embedding records committed to the output topic.", this.recordsOut);
    out.counter("dlq_records_total", "Records committed to the dead-letter topic.", this.dlqRecords);
    out.counter("batches_total", "Batches sent to the embedding service.", this.batches);
    out.counter("embed_calls_total", "Calls to the embedding service that answered.", this.totalCalls);
    out.counter("embed_failures_total", "Batches the embedding service failed (outages waited out, rejections).", this.failures);
    out.counter("transactions_total", "Kafka transactions committed.", this.transactions);
    out.counter("transaction_failures_total", "Kafka transactions that failed and were redone.", this.transactionFailures);
    out.counter("parquet_files_total", "Parquet files written.", this.parquetFiles);
    out.counter("parquet_rows_total", "Rows written to Parquet.", this.parquetRows);
    out.counter("reddb_writes_total", "Records written to RedDB.", this.reddbWrites);
    out.counter("reddb_failures_total", "Failed RedDB write rounds (retried).", this.reddbFailures);
    out.gauge("batch_size", "Records in the last batch.", this.lastBatchSize);
    const stage = this.stage.snapshot();
    out.gauge("stage_records_per_second", "Records the embed stage committed per second over the last minute.", stage.records_per_sec);
    // Absent rather than 0 while no record went through in the last minute: 0 would claim records flowed without waiting.
    out.gauge("stage_latency_p50_seconds", "Median over the last minute of embedding_input record timestamp to its embedding committed.", stage.p50_ms === null ? null : stage.p50_ms / 1000);
    out.gauge("stage_latency_p99_seconds", "p99 over the last minute of embedding_input record timestamp to its embedding committed.", stage.p99_ms === null ? null : stage.p99_ms / 1000);
    out.gauge("consumer_lag", "Offsets behind the input topic's end after the last commit, over assigned partitions: 0 when caught up (the commit goes past transaction markers); while records wait it also counts one marker per input transaction (the console's lag counts records exactly).", [...this.lagByPartition.values()].reduce((a, b) => a + b, 0));
    out.gauge("paused", "1 while consumption is paused by an operator.", extra.paused ? 1 : 0);
    out.gauge("degraded", "1 while a dependency is unavailable or an input partition is not advancing (see /health).", extra.degraded ? 1 : 0);
    if (extra.cache) {
      out.counter("cache_hits_total", "Texts answered from the embedding cache.", extra.cache.hits);
      out.counter("cache_misses_total", "Texts not in the embedding cache.", extra.cache.misses);
      out.gauge("cache_entries", "Entries in the embedding cache.", extra.cache.size);
    }
    upstreamMetrics(out, extra.upstreams ?? []);
    out.histogram("embed_duration_seconds", "Round trip of calls to the embedding service.", { buckets: DURATION_BUCKETS, counts: this.durationCounts, sum: this.durationSum });
    return out.toString();
  }
}

/** Milliseconds (kept to 0.1 ms) as seconds, without float noise such as 0.8652000000000001. */
const msToSeconds = (ms: number | null) => (ms === null ? null : Number((ms / 1000).toFixed(4)));

/** One series per INFERMESH_URL instance, labelled by its URL (credentials redacted). */
function upstreamMetrics(out: PrometheusText, upstreams: UpstreamSnapshot[]): void {
  if (upstreams.length === 0) return;
  const per = (value: (u: UpstreamSnapshot) => number | null) => upstreams.map((u) => ({ labels: { url: redactUrl(u.url) }, value: value(u) }));
  out.gauge("upstream_up", "1 while the embedding-service instance is in rotation, 0 while ejected (probed back with backoff).", per((u) => (u.state === "up" ? 1 : 0)));
  out.gauge("upstream_outstanding", "Calls in flight to the instance.", per((u) => u.outstanding));
  out.counter("upstream_requests_total", "Calls sent to the instance.", per((u) => u.requests));
  out.counter("upstream_failures_total", "Calls the instance failed (connection error, timeout, 429, 5xx).", per((u) => u.failures));
  out.counter("upstream_ejections_total", "Times the instance was taken out of rotation.", per((u) => u.ejections));
  // Absent (null) before the instance's first answer rather than a 0 that would claim a latency.
  out.gauge("upstream_latency_p50_seconds", "Median round trip of the instance's newest 512 answered calls.", per((u) => msToSeconds(u.p50_ms)));
  out.gauge("upstream_latency_p99_seconds", "p99 round trip of the instance's newest 512 answered calls.", per((u) => msToSeconds(u.p99_ms)));
}
