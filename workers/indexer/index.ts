/**
 * The emb-indexer: consumes embedding records into a sharded vector index
 * (LMDB + one HNSW graph over all shards) and serves kNN queries and shard statistics.
 *
 *   node --conditions=react-server --enable-source-maps .build/workers/emb-indexer.mjs   (built by `npm start`; scripts/build-workers.ts)
 */
import type { Consumer } from "kafkajs";
import { parseEmbeddingClientConfig } from "../../lib/config/embedding-client";
import { parseIndexerConfig } from "../../lib/config/indexer";
import { loadOrExit } from "../../lib/config/load";
import { createEmbeddingClient } from "../../lib/embedding";
import { EfTuner } from "../../lib/index/ef-tuner";
import { RecallMonitor } from "../../lib/index/recall-monitor";
import { VectorIndex } from "../../lib/index/vector-index";
import { createKafka } from "../../lib/kafka/client";
import { beginProcess } from "../../lib/process/lifecycle";
import { startIndexConsumer } from "./consumer";
import { DeadLetters } from "./dead-letters";
import { indexerHealth, PartitionHealth } from "./health";
import { embedTextWith } from "./embed-text";
import { createIndexerServer } from "./http";
import { IndexerMetrics } from "./metrics";
import { checkIndexModel } from "./model-check";
import { ReddbMirror } from "./mirror";
import { PartitionOwnership } from "./ownership";

const proc = beginProcess("emb-indexer");
const cfg = proc.configure(parseIndexerConfig);
const embeddingCfg = loadOrExit(parseEmbeddingClientConfig);
const log = proc.log;

function openIndex() {
  try {
    return VectorIndex.open({ dir: cfg.index.dir, shards: cfg.index.shards, maxIdsPerShard: cfg.index.maxIdsPerShard, hnsw: cfg.index.hnsw });
  } catch (err) {
    return proc.refuse((err as Error).message);
  }
}
const { index, report } = openIndex();
proc.onStop("index", () => index.close());
// One index holds one model's vectors: another model's are not comparable, even at the same dimension.
const modelCheck = checkIndexModel({ dir: cfg.index.dir, held: report.model, dim: index.dim, configured: cfg.model });
if (modelCheck.refuse) proc.refuse(modelCheck.refuse);
if (modelCheck.warn) log.warn({ dir: cfg.index.dir, dim: index.dim ?? null }, modelCheck.warn);
if (report.model.source === "records") log.info({ dir: cfg.index.dir, model: report.model.name }, "the index's model read from its documents (written before the index kept it) and stored");
log.info({ dir: cfg.index.dir, dim: index.dim ?? null, ...report, model: report.model.name ?? null }, "index loaded");
if (report.withoutTexts > 0) log.warn({ dir: cfg.index.dir, withoutTexts: report.withoutTexts, docs: report.docs }, "documents indexed before texts were kept: search answers show no text for them (text_stored false); to get their texts, stop the indexer and delete the index directory, and it rebuilds from the topic");

let status: "starting" | "ok" | "stopping" = "starting";
const metrics = new IndexerMetrics();
const recall = new RecallMonitor(index, cfg.recall.samples, new EfTuner(cfg.index.hnsw.efSearch, cfg.recall.efMax, cfg.recall.target));
const embeddingClient = createEmbeddingClient(embeddingCfg);
const mirror = cfg.reddb && new ReddbMirror(cfg.reddb, log, () => metrics.mirrorFailures++, () => metrics.mirrorRefused++);
const partitionHealth = new PartitionHealth();
/** This instance in the indexers' group (INDEXER_INSTANCE, advertised with INDEXER_ADVERTISED_URL) and the partitions it owns. */
const group = { instance: cfg.instance, ownership: new PartitionOwnership((p) => index.nextOffset(cfg.kafka.topic, p) ?? 0) };
/** /health as data: ok, or degraded with the partitions not advancing (HTTP 200), starting/stopping (503). */
const health = () => indexerHealth(status, partitionHealth, index, group);
proc.onStop("reddb mirror", () => mirror?.close());
proc.onStop("embedding client", () => embeddingClient.close());

await proc.listen(createIndexerServer({ index, metrics, recall, embedText: embedTextWith(embeddingClient, cfg.model), log, health, model: cfg.model, group }), cfg.port, cfg.host);

const kafka = createKafka({ clientId: "emb-indexer", brokers: cfg.kafka.brokers, log });
const deadLetters = new DeadLetters(kafka, cfg.kafka.dlqTopic, cfg.kafka.topic, cfg.kafka.dlqPartitions, cfg.kafka.replication);
let consumer: Consumer | undefined;
let snapshotTimer: NodeJS.Timeout | undefined;
let recallTimer: NodeJS.Timeout | undefined;
let recallRunning = false;

// At stop, in this order: timers, consumer, dead-letter producer, a last snapshot, then the HTTP server and the rest above.
// A saved graph makes the next start quick; LMDB already holds everything applied.
proc.onStop("HNSW snapshot", saveSnapshots);
proc.onStop("dead-letter producer", () => deadLetters.close());
proc.onStop("consumer", () => consumer?.disconnect());
proc.onStop("timers", () => {
  status = "stopping";
  clearInterval(snapshotTimer);
  clearInterval(recallTimer);
});

// Kafka being away at start (the broker restarting, a stack starting) is waited out with backoff.
const consuming = await proc.start("emb-indexer consumer", async () => {
  await deadLetters.connect();
  consumer = await startIndexConsumer({ kafka, topic: cfg.kafka.topic, groupId: cfg.kafka.groupId, sessionTimeoutMs: cfg.kafka.sessionTimeoutMs, index, model: cfg.model, metrics, log, mirror: mirror || undefined, deadLetters, health: partitionHealth, signal: proc.signal, member: { instance: cfg.instance, url: cfg.advertisedUrl }, ownership: group.ownership });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) log.error({ err: { message: payload.error.message } }, "consumer crashed; kafkajs restarts it");
    else proc.fail(payload.error, "consumer");
  });
});
if (consuming) {
  status = "ok";
  log.info({ topic: cfg.kafka.topic, group: cfg.kafka.groupId, instance: cfg.instance, url: cfg.advertisedUrl, mirror: Boolean(mirror) }, "emb-indexer consuming");
  snapshotTimer = setInterval(() => void saveSnapshots(), cfg.index.snapshotMs);
  recallTimer = cfg.recall.intervalMs > 0 ? setInterval(() => void checkRecall(), cfg.recall.intervalMs) : undefined;
}

/** The graph is written on another thread while queries go on; a failed write (disk full) leaves the last snapshot, and the next start replays more from LMDB. */
async function saveSnapshots(): Promise<void> {
  const started = performance.now();
  try {
    const saved = await index.snapshot();
    if (saved === 0) return;
    metrics.snapshotsSaved += saved;
    metrics.lastSnapshotTs = Date.now();
    log.info({ keys: index.graph?.size ?? 0, durationMs: Math.round(performance.now() - started) }, "HNSW graph snapshot saved");
  } catch (err) {
    log.error({ err: { message: (err as Error).message } }, "HNSW graph snapshot not saved; the previous one stays");
  }
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
