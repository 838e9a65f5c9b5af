/**
 * The embed-worker: embedding_input → embedding service → Kafka `embeddings`
 * (+ DLQ) exactly once, Parquet, optional RedDB; /health, /metrics and control
 * endpoints on EMBED_METRICS_PORT.
 *
 *   node --conditions=react-server --import tsx workers/embed/index.ts
 */
import { parseEmbedWorkerConfig, redactEmbedWorkerConfig } from "../../lib/config/embed-worker";
import { loadOrExit } from "../../lib/config/load";
import { createEmbeddingClient, findModel } from "../../lib/embedding";
import { createKafka } from "../../lib/kafka/client";
import { TopicLimits } from "../../lib/kafka/record-limits";
import { ensureTopics } from "../../lib/kafka/topics";
import { createLogger } from "../../lib/log";
import { ParquetSink } from "../../lib/parquet";
import { ReddbClient } from "../../lib/reddb/client";
import { Backoff } from "./backoff";
import { Batcher } from "./batcher";
import { EmbedConsumer } from "./consumer";
import { Health } from "./health";
import { createControlServer } from "./http";
import { parquetDimensionMismatch, warmCacheFromParquet } from "./parquet-start";
import { PartitionOwners } from "./partition-owners";
import { ReddbSink } from "./reddb-sink";
import { ResilientEmbedder } from "./resilient-embed";
import { WorkerStats } from "./stats";

/** Embed calls in flight: one computing while the next is on the wire keeps the model busy. */
const EMBED_CALLS_IN_FLIGHT = 2;

const cfg = loadOrExit(parseEmbedWorkerConfig);
const log = createLogger("embed-worker", cfg.logLevel);

// Vectors of two dimensions in one sink would break every reader of it: refuse
// to start, with one line naming both numbers and the fix (as loadOrExit does).
if (cfg.parquet.enabled) {
  const mismatch = await parquetDimensionMismatch(cfg.parquet.dir, cfg.embedding.model);
  if (mismatch) {
    process.stderr.write(`embedline: ${mismatch}\n`);
    process.exit(2);
  }
}
const shutdown = new AbortController();
const stats = new WorkerStats();
const health = new Health();

const client = createEmbeddingClient(cfg.embedding);
const embedder = new ResilientEmbedder(client, health, stats, log, {
  normalize: cfg.normalize,
  expectedDim: findModel(cfg.embedding.model)?.dim,
  signal: shutdown.signal,
});
const batcher = new Batcher((texts) => embedder.embed(texts), { size: cfg.batch.size, maxWaitMs: cfg.batch.maxWaitMs, maxInFlight: EMBED_CALLS_IN_FLIGHT }, (n) => stats.recordBatch(n));

const parquet = cfg.parquet.enabled ? new ParquetSink(cfg.parquet.dir, cfg.storeText) : undefined;
const reddbClient = cfg.reddb ? new ReddbClient({ url: cfg.reddb.url, token: cfg.reddb.token }) : undefined;
const reddbBackoff = new Backoff();
const reddb =
  cfg.reddb && reddbClient
    ? {
        sink: new ReddbSink(reddbClient, cfg.reddb),
        /** RedDB being away is waited out like any other outage. */
        async writeWithRetry<T>(write: () => Promise<T>): Promise<T> {
          for (;;) {
            try {
              const done = await write();
              health.recover("reddb");
              reddbBackoff.reset();
              return done;
            } catch (err) {
              shutdown.signal.throwIfAborted();
              stats.reddbFailures++;
              health.degrade("reddb", err instanceof Error ? err.message : String(err));
              await reddbBackoff.wait(shutdown.signal);
            }
          }
        },
      }
    : undefined;

const kafka = createKafka({ clientId: "embed-worker", brokers: cfg.kafka.brokers, log });
const admin = kafka.admin();
const owners = new PartitionOwners(kafka, admin, cfg.kafka.group, parquet, log);
const consumer = new EmbedConsumer({
  kafka,
  inputTopic: cfg.kafka.inputTopic,
  group: cfg.kafka.group,
  unit: {
    batcher,
    parquet,
    reddb,
    outputTopic: cfg.kafka.outputTopic,
    dlqTopic: cfg.kafka.dlqTopic,
    group: cfg.kafka.group,
    normalize: cfg.normalize,
    storeText: cfg.storeText,
    maxTextBytes: cfg.maxTextBytes,
    // Read from the broker (describeConfigs) once admin has connected in start().
    limits: new TopicLimits(admin),
  },
  owners,
  stats,
  health,
  log,
  signal: shutdown.signal,
});

const cacheStats = () => ("cache" in client && client.cache ? client.cache.stats() : undefined);
const server = createControlServer(
  {
    health: () => ({ ...health.snapshot(), paused: consumer.paused, queued: batcher.depth, uptime_s: Date.now() / 1000 - stats.startedTs }),
    metrics: () => ({ ...stats.json({ cache: cacheStats(), paused: consumer.paused, status: health.snapshot().status }), degraded: health.snapshot().reasons }),
    prometheus: () => stats.prometheus({ cache: cacheStats(), paused: consumer.paused, degraded: health.isDegraded() }),
    config: () => redactEmbedWorkerConfig(cfg),
    pause: () => consumer.pause(),
    resume: () => consumer.resume(),
    paused: () => consumer.paused,
  },
  cfg.controlToken,
  log,
);
server.on("error", (err) => {
  log.fatal({ err: { message: err.message }, port: cfg.http.port }, "control server error; stopping");
  process.exit(1);
});

consumer.consumer.on(consumer.consumer.events.CRASH, ({ payload }) => {
  log.error({ err: { message: payload.error.message }, restart: payload.restart }, "kafka consumer crashed");
  if (!payload.restart) void stop("consumer crash", 1);
});

async function start() {
  server.listen(cfg.http.port, cfg.http.host);
  await parquet?.init();
  await warmCache();
  await admin.connect();
  await ensureTopics(kafka, [cfg.kafka.inputTopic, cfg.kafka.outputTopic, cfg.kafka.dlqTopic], cfg.kafka.partitions);
  await consumer.start();
  log.info(
    { port: cfg.http.port, input: cfg.kafka.inputTopic, group: cfg.kafka.group, batchSize: cfg.batch.size, maxWaitMs: cfg.batch.maxWaitMs, parquet: parquet?.dir ?? null, reddb: cfg.reddb?.mode ?? null, storeText: cfg.storeText },
    "embed-worker started",
  );
}

/** EMBED_CACHE_WARMUP: the newest (text, vector) pairs of the Parquet sink into the cache, before the first batch. */
async function warmCache() {
  if (cfg.cacheWarmup === 0) return;
  const cache = "cache" in client ? client.cache : undefined;
  if (!cache) {
    log.warn({ warmup: cfg.cacheWarmup }, "EMBED_CACHE_WARMUP ignored: the cache is off (EMBED_CACHE_SIZE=0)");
    return;
  }
  const started = performance.now();
  const warmed = await warmCacheFromParquet(cache, cfg.parquet.dir, cfg.cacheWarmup, { model: cfg.embedding.model, normalize: cfg.normalize });
  log.info({ requested: cfg.cacheWarmup, warmed, dir: cfg.parquet.dir, durationMs: Math.round(performance.now() - started) }, "cache warmed from Parquet");
}

let stopping = false;
async function stop(reason: string, code = 0) {
  if (stopping) return;
  stopping = true;
  log.info({ reason }, "stopping");
  const deadline = setTimeout(() => {
    log.error({ timeoutMs: cfg.shutdownTimeoutMs }, "shutdown timed out; exiting");
    process.exit(1);
  }, cfg.shutdownTimeoutMs);
  deadline.unref();
  // Stop fetching first, then abort waits: a unit in flight is abandoned
  // uncommitted and its records come again to whoever owns the partition next.
  const disconnecting = consumer.consumer.disconnect();
  shutdown.abort(new Error("shutting down"));
  await disconnecting.catch((err: Error) => log.warn({ err: { message: err.message } }, "consumer disconnect failed"));
  await owners.closeAll();
  await parquet?.close();
  await admin.disconnect().catch(() => undefined);
  await client.close().catch(() => undefined);
  await reddbClient?.close().catch(() => undefined);
  await new Promise<void>((r) => server.close(() => r()));
  log.info("stopped");
  process.exit(code);
}

process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
start().catch((err: Error) => {
  log.fatal({ err: { message: err.message } }, "embed-worker failed to start");
  void stop("start failed", 1);
});
