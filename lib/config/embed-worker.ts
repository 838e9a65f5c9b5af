import { parseEmbeddingClientConfig } from "./embedding-client";
import { embedParquetDir } from "./paths";
import { redactConfig } from "./redact";
import { parseEnv, type RawEnv } from "./env";
import { parseKafkaCluster, parseProcessBasics, parseTopicCreation } from "./shared";

/** Configuration of the embed-worker (workers/embed). */
export function parseEmbedWorkerConfig(env: RawEnv) {
  const e = parseEnv(
    [
      "DATA_DIR",
      "EMBED_INPUT_TOPIC",
      "EMBED_OUTPUT_TOPIC",
      "EMBED_DLQ_TOPIC",
      "EMBED_GROUP",
      "EMBED_BATCH_SIZE",
      "EMBED_MAX_WAIT_SEC",
      "EMBED_NORMALIZE",
      "EMBED_WRITE_PARQUET",
      "EMBED_PARQUET_DIR",
      "EMBED_METRICS_PORT",
      "EMBED_WORKER_HOST",
      "EMBED_MAX_TEXT_BYTES",
      "EMBED_STORE_TEXT",
      "EMBED_CONTROL_TOKEN",
      "EMBED_CACHE_WARMUP",
      "REDDB_URL",
      "REDDB_NAMESPACE",
      "REDDB_TOKEN",
      "REDDB_STREAM",
      "REDDB_MODE",
      "REDDB_DLQ_STREAM",
    ],
    env,
  );
  const topics = parseTopicCreation(env);
  return {
    ...parseProcessBasics(env),
    kafka: {
      brokers: parseKafkaCluster(env).brokers,
      inputTopic: e.EMBED_INPUT_TOPIC,
      outputTopic: e.EMBED_OUTPUT_TOPIC,
      dlqTopic: e.EMBED_DLQ_TOPIC,
      group: e.EMBED_GROUP,
      /** Used only when the worker has to create a missing topic. */
      partitions: topics.partitions,
      /** KAFKA_REPLICATION_FACTOR / KAFKA_MIN_INSYNC_REPLICAS of the topics it creates. */
      replication: topics.replication,
    },
    batch: { size: e.EMBED_BATCH_SIZE, maxWaitMs: Math.round(e.EMBED_MAX_WAIT_SEC * 1000) },
    normalize: e.EMBED_NORMALIZE,
    maxTextBytes: e.EMBED_MAX_TEXT_BYTES,
    storeText: e.EMBED_STORE_TEXT,
    parquet: { enabled: e.EMBED_WRITE_PARQUET, dir: embedParquetDir(e.DATA_DIR, e.EMBED_PARQUET_DIR) },
    /** Newest (text, vector) pairs of the Parquet sink preloaded into the cache at start. */
    cacheWarmup: e.EMBED_CACHE_WARMUP,
    http: { host: e.EMBED_WORKER_HOST, port: e.EMBED_METRICS_PORT },
    /** Secret: compared, never logged, never shown by /config. */
    controlToken: e.EMBED_CONTROL_TOKEN,
    reddb: e.REDDB_URL
      ? { url: e.REDDB_URL, namespace: e.REDDB_NAMESPACE, token: e.REDDB_TOKEN, stream: e.REDDB_STREAM, mode: e.REDDB_MODE, dlqStream: e.REDDB_DLQ_STREAM }
      : undefined,
    embedding: parseEmbeddingClientConfig(env),
  };
}

export type EmbedWorkerConfig = ReturnType<typeof parseEmbedWorkerConfig>;

/**
 * The effective configuration as GET /config shows it: every credential field
 * (controlToken, reddb.token, embedding.apiKey) replaced, and user-info and
 * credential query parameters hidden inside every URL (INFERMESH_URL, REDDB_URL).
 */
export function redactEmbedWorkerConfig(cfg: EmbedWorkerConfig) {
  return redactConfig(cfg);
}
