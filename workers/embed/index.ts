/**
 * The embed-worker: embedding_input → embedding service → Kafka `embeddings`
 * (+ DLQ) exactly once, Parquet, optional RedDB; /health, /metrics and control
 * endpoints on EMBED_METRICS_PORT.
 *
 *   node --conditions=react-server --enable-source-maps .build/workers/embed-worker.mjs   (built by `npm start`; scripts/build-workers.ts)
 */
import { parseEmbedWorkerConfig, redactEmbedWorkerConfig } from "../../lib/config/embed-worker";
import { redactUrl } from "../../lib/config/redact";
import { createEmbeddingClient, findModel } from "../../lib/embedding";
import { createKafka } from "../../lib/kafka/client";
import { TopicLimits } from "../../lib/kafka/record-limits";
import { compactedTopic, ensureTopics, warnExistingDiffers } from "../../lib/kafka/topics";
import { ParquetSink } from "../../lib/parquet";
import { beginProcess } from "../../lib/process/lifecycle";
import { ReddbClient } from "../../lib/reddb/client";
import { Backoff } from "./backoff";
import { Batcher } from "./batcher";
import { EmbedConsumer } from "./consumer";
import { Health } from "./health";
import { createControlServer } from "./http";
import { parquetModelMismatch, warmCacheFromParquet } from "./parquet-start";
import { PartitionOwners } from "./partition-owners";
import { ReddbSink } from "./reddb-sink";
import { ResilientEmbedder } from "./resilient-embed";
import { WorkerStats } from "./stats";

/** Embed calls in flight: one computing while the next is on the wire keeps the model busy. */
const EMBED_CALLS_IN_FLIGHT = 2;

const proc = beginProcess("embed-worker");
const cfg = proc.configure(parseEmbedWorkerConfig);
const log = proc.log;

// Vectors of two models in one sink are not comparable (and two dimensions break
// every reader of it): refuse to start, with one line naming both and the fix.
if (cfg.parquet.enabled) {
  const mismatch = await parquetModelMismatch(cfg.parquet.dir, cfg.embedding.model);
  if (mismatch) proc.refuse(mismatch);
}
const stats = new WorkerStats();
const health = new Health();

const client = createEmbeddingClient(cfg.embedding, {
  onChange: (url, state, why) =>
    state === "ejected"
      ? log.warn({ upstream: redactUrl(url), err: { message: redactUrl(why) } }, "embedding service instance ejected; probing it with backoff")
      : log.info({ upstream: redactUrl(url), why }, "embedding service instance back in rotation"),
});
const upstreams = () => client.upstreams?.();
const embedder = new ResilientEmbedder(client, health, stats, log, {
  normalize: cfg.normalize,
  expectedDim: findModel(cfg.embedding.model)?.dim,
  signal: proc.signal,
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
              proc.signal.throwIfAborted();
              stats.reddbFailures++;
              health.degrade("reddb", err instanceof Error ? err.message : String(err));
              await reddbBackoff.wait(proc.signal);
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
  signal: proc.signal,
});

const cacheStats = () => ("cache" in client && client.cache ? client.cache.stats() : undefined);
const server = createControlServer(
  {
    health: () => ({ ...health.snapshot(), paused: consumer.paused, queued: batcher.depth, uptime_s: Date.now() / 1000 - stats.startedTs }),
    metrics: () => ({ ...stats.json({ cache: cacheStats(), paused: consumer.paused, status: health.snapshot().status, upstreams: upstreams() }), degraded: health.snapshot().reasons }),
    prometheus: () => stats.prometheus({ cache: cacheStats(), paused: consumer.paused, degraded: health.isDegraded(), upstreams: upstreams() }),
    config: () => redactEmbedWorkerConfig(cfg),
    pause: () => consumer.pause(),
    resume: () => consumer.resume(),
    paused: () => consumer.paused,
  },
  cfg.controlToken,
  log,
);
consumer.consumer.on(consumer.consumer.events.CRASH, ({ payload }) => {
  if (payload.restart) log.error({ err: { message: payload.error.message } }, "kafka consumer crashed; kafkajs restarts it");
  else proc.fail(payload.error, "kafka consumer");
});

// At stop, in reverse order of these lines: stop fetching first (the abort of
// proc.signal ends waits at once): a unit in flight is abandoned uncommitted
// and its records come again to whoever owns the partition next. The HTTP
// server closes last, so /health answers throughout.
await proc.listen(server, cfg.http.port, cfg.http.host);
proc.onStop("reddb client", () => reddbClient?.close());
proc.onStop("embedding client", () => client.close());
proc.onStop("kafka admin", () => admin.disconnect());
proc.onStop("parquet sink", () => parquet?.close());
proc.onStop("transactional producers", () => owners.closeAll());
proc.onStop("kafka consumer", () => consumer.consumer.disconnect());

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

const sinksReady = await proc.start(
  "parquet sink",
  async () => {
    await parquet?.init();
    await warmCache();
  },
  { transient: () => false },
);
// Kafka being away at start (the broker restarting, a stack starting) is waited out with backoff.
const consuming =
  sinksReady &&
  (await proc.start(
    "kafka consumer",
    async () => {
      await admin.connect();
      await ensureTopics(kafka, [cfg.kafka.inputTopic, cfg.kafka.outputTopic, cfg.kafka.dlqTopic], cfg.kafka.partitions, { ...cfg.kafka.replication, configs: compactedTopic(cfg.kafka.outputTopic), onExistingDiffers: warnExistingDiffers(log) });
      await consumer.start();
    },
    // /health says degraded, and why, while start-up waits for Kafka.
    { onRetry: (err) => health.degrade("kafka", `waiting for Kafka to start: ${(err instanceof Error ? err.message : String(err)).split("\n")[0]}`) },
  ));
if (consuming) {
  health.recover("kafka");
  log.info(
    { port: cfg.http.port, input: cfg.kafka.inputTopic, group: cfg.kafka.group, batchSize: cfg.batch.size, maxWaitMs: cfg.batch.maxWaitMs, parquet: parquet?.dir ?? null, reddb: cfg.reddb?.mode ?? null, storeText: cfg.storeText },
    "embed-worker started",
  );
}
