/**
 * The emb-indexer: consumes embedding records into a sharded vector index
 * (LMDB + one HNSW graph over all shards) and serves kNN queries and shard statistics.
 *
 *   node --conditions=react-server --import tsx workers/indexer/index.ts
 */
import { createServer } from "node:http";
import { parseEmbeddingClientConfig } from "../../lib/config/embedding-client";
import { parseIndexerConfig } from "../../lib/config/indexer";
import { loadOrExit } from "../../lib/config/load";
import { createEmbeddingClient, dimensionMismatch, findModel } from "../../lib/embedding";
import { EfTuner } from "../../lib/index/ef-tuner";
import { RecallMonitor } from "../../lib/index/recall-monitor";
import { VectorIndex } from "../../lib/index/vector-index";
import { createKafka } from "../../lib/kafka/client";
import { createLogger } from "../../lib/log";
import { startIndexConsumer } from "./consumer";
import { DeadLetters } from "./dead-letters";
import { indexerHealth, PartitionHealth } from "./health";
import { embedTextWith } from "./embed-text";
import { createIndexerHandler } from "./http";
import { IndexerMetrics } from "./metrics";
import { ReddbMirror } from "./mirror";

const cfg = loadOrExit(parseIndexerConfig);
const embeddingCfg = loadOrExit(parseEmbeddingClientConfig);
const log = createLogger("emb-indexer", cfg.logLevel);

function stopAtStart(line: string): never {
  process.stderr.write(`embedline: ${line}\n`);
  process.exit(2);
}

let opened: ReturnType<typeof VectorIndex.open>;
try {
  opened = VectorIndex.open({ dir: cfg.index.dir, shards: cfg.index.shards, maxIdsPerShard: cfg.index.maxIdsPerShard, hnsw: cfg.index.hnsw });
} catch (err) {
  stopAtStart((err as Error).message);
}
const { index, report } = opened;
const modelDim = findModel(cfg.model)?.dim;
const storedDim = index.dim;
if (storedDim !== undefined && modelDim !== undefined) {
  const mismatch = dimensionMismatch({
    component: `the index in ${cfg.index.dir}`,
    storedDim,
    model: cfg.model,
    modelDim,
    fix: `set EMBED_MODEL to a ${storedDim}-dim model, or stop the indexer and delete ${cfg.index.dir} to rebuild it from the topic`,
  });
  if (mismatch) stopAtStart(mismatch);
}
log.info({ dir: cfg.index.dir, dim: storedDim ?? null, ...report }, "index loaded");

let status: "starting" | "ok" | "stopping" = "starting";
const metrics = new IndexerMetrics();
const recall = new RecallMonitor(index, cfg.recall.samples, new EfTuner(cfg.index.hnsw.efSearch, cfg.recall.efMax, cfg.recall.target));
const embeddingClient = createEmbeddingClient(embeddingCfg);
const shutdownController = new AbortController();
const mirror = cfg.reddb && new ReddbMirror(cfg.reddb, log, () => metrics.mirrorFailures++, () => metrics.mirrorRefused++);
const partitionHealth = new PartitionHealth();
/** /health as data: ok, or degraded with the partitions not advancing (HTTP 200), starting/stopping (503). */
const health = () => indexerHealth(status, partitionHealth, index);

const server = createServer(
  { keepAliveTimeout: 65_000 },
  createIndexerHandler({ index, metrics, recall, embedText: embedTextWith(embeddingClient), log, health }),
);
server.on("error", (err) => {
  log.fatal({ err: { message: err.message }, port: cfg.port }, "server error; stopping");
  process.exit(1);
});
server.listen(cfg.port, cfg.host, () => log.info({ host: cfg.host, port: cfg.port }, "emb-indexer listening"));

const kafka = createKafka({ clientId: "emb-indexer", brokers: cfg.kafka.brokers, log });
const deadLetters = new DeadLetters(kafka, cfg.kafka.dlqTopic, cfg.kafka.topic, cfg.kafka.dlqPartitions);
await deadLetters.connect();
const consumer = await startIndexConsumer({ kafka, topic: cfg.kafka.topic, groupId: cfg.kafka.groupId, index, metrics, log, mirror: mirror || undefined, deadLetters, health: partitionHealth, signal: shutdownController.signal });
consumer.on(consumer.events.CRASH, ({ payload }) => {
  log.fatal({ err: { message: payload.error.message }, restart: payload.restart }, "consumer crashed");
  if (!payload.restart) void shutdown("consumer crash", 1);
});
status = "ok";
log.info({ topic: cfg.kafka.topic, group: cfg.kafka.groupId, mirror: Boolean(mirror) }, "emb-indexer consuming");

const snapshotTimer = setInterval(saveSnapshots, cfg.index.snapshotMs);
const recallTimer = cfg.recall.intervalMs > 0 ? setInterval(() => void checkRecall(), cfg.recall.intervalMs) : undefined;
let recallRunning = false;

function saveSnapshots(): void {
  const started = performance.now();
  const saved = index.snapshot();
  if (saved === 0) return;
  metrics.snapshotsSaved += saved;
  metrics.lastSnapshotTs = Date.now();
  log.info({ keys: index.graph?.size ?? 0, durationMs: Math.round(performance.now() - started) }, "HNSW graph snapshot saved");
}

async function checkRecall(): Promise<void> {
  if (recallRunning) return;
  recallRunning = true;
  try {
    const efBefore = recall.ef;
    const sample = await recall.check();
    if (sample) log.debug(sample, "recall checked");
    if (recall.ef !== efBefore) log.info({ recall: sample?.recall, target: cfg.recall.target, from: efBefore, to: recall.ef }, "HNSW search ef tuned to the recall target");
  } finally {
    recallRunning = false;
  }
}

async function shutdown(signal: string, code = 0): Promise<void> {
  if (status === "stopping") return;
  status = "stopping";
  log.info({ signal }, "stopping");
  const deadline = setTimeout(() => {
    log.error({ timeoutMs: cfg.shutdownTimeoutMs }, "shutdown timed out; exiting");
    process.exit(1);
  }, cfg.shutdownTimeoutMs);
  deadline.unref();
  clearInterval(snapshotTimer);
  clearInterval(recallTimer);
  shutdownController.abort();
  await consumer.disconnect().catch((err: Error) => log.warn({ err: { message: err.message } }, "consumer disconnect failed"));
  await deadLetters.close().catch((err: Error) => log.warn({ err: { message: err.message } }, "dead-letter producer disconnect failed"));
  // A saved graph makes the next start quick; LMDB already holds everything applied.
  saveSnapshots();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await closed;
  await embeddingClient.close();
  await mirror?.close();
  await index.close();
  log.info("stopped");
  process.exit(code);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
