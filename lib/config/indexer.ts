import { indexDir } from "./paths";
import { parseEnv, type RawEnv } from "./env";
import { parseKafkaCluster, parseProcessBasics, parseTopicCreation } from "./shared";

/** Configuration of the emb-indexer (workers/indexer). */
export function parseIndexerConfig(env: RawEnv) {
  const e = parseEnv(
    [
      "DATA_DIR",
      "EMBED_OUTPUT_TOPIC",
      "EMBED_DLQ_TOPIC",
      "EMBED_MODEL",
      "EMB_INDEX_SHARDS",
      "EMB_SHARD_MAX_IDS",
      "INDEXER_HOST",
      "INDEXER_PORT",
      "INDEXER_GROUP",
      "INDEXER_ADVERTISED_URL",
      "INDEXER_INSTANCE",
      "INDEXER_SESSION_TIMEOUT_SEC",
      "INDEX_DIR",
      "INDEX_HNSW_CONNECTIVITY",
      "INDEX_HNSW_EF_ADD",
      "INDEX_QUANTIZATION",
      "INDEX_HNSW_EF_SEARCH",
      "INDEX_HNSW_EF_SEARCH_MAX",
      "INDEX_RECALL_TARGET",
      "INDEX_SNAPSHOT_SEC",
      "INDEX_RECALL_INTERVAL_SEC",
      "INDEX_RECALL_SAMPLES",
      "REDDB_URL",
      "REDDB_NAMESPACE",
      "REDDB_TOKEN",
      "REDDB_INDEX_STREAM",
    ],
    env,
  );
  const topics = parseTopicCreation(env);
  return {
    ...parseProcessBasics(env),
    host: e.INDEXER_HOST,
    port: e.INDEXER_PORT,
    /** Where the console reaches this instance, and its stable id in the group (lib/kafka/indexer-group.ts). */
    advertisedUrl: advertisedUrl(e.INDEXER_ADVERTISED_URL, e.INDEXER_PORT),
    instance: e.INDEXER_INSTANCE ?? advertisedUrl(e.INDEXER_ADVERTISED_URL, e.INDEXER_PORT),
    kafka: {
      brokers: parseKafkaCluster(env).brokers,
      topic: e.EMBED_OUTPUT_TOPIC,
      groupId: e.INDEXER_GROUP,
      sessionTimeoutMs: e.INDEXER_SESSION_TIMEOUT_SEC * 1000,
      /**
       * The index stage's dead letters go to the embed stage's DLQ topic (stage
       * "index", source topic EMBED_OUTPUT_TOPIC): the console reads that
       * topic, and a redrive re-sends to the source topic either way.
       */
      dlqTopic: e.EMBED_DLQ_TOPIC,
      /** Partitions of the DLQ topic when the indexer is the first to need it. */
      dlqPartitions: topics.partitions,
      /** KAFKA_REPLICATION_FACTOR / KAFKA_MIN_INSYNC_REPLICAS of the DLQ topic when it creates it. */
      replication: topics.replication,
    },
    /** The model text queries are embedded with; its registry dimension is checked against the index at start. */
    model: e.EMBED_MODEL,
    index: {
      dir: indexDir(e.DATA_DIR, e.INDEX_DIR),
      shards: e.EMB_INDEX_SHARDS,
      /** 0 = unlimited. */
      maxIdsPerShard: e.EMB_SHARD_MAX_IDS,
      hnsw: { connectivity: e.INDEX_HNSW_CONNECTIVITY, efAdd: e.INDEX_HNSW_EF_ADD, efSearch: e.INDEX_HNSW_EF_SEARCH, quantization: e.INDEX_QUANTIZATION },
      snapshotMs: e.INDEX_SNAPSHOT_SEC * 1000,
    },
    recall: {
      intervalMs: e.INDEX_RECALL_INTERVAL_SEC * 1000,
      samples: e.INDEX_RECALL_SAMPLES,
      target: e.INDEX_RECALL_TARGET,
      /** The ef searches start at and never go below is index.hnsw.efSearch. */
      efMax: Math.max(e.INDEX_HNSW_EF_SEARCH_MAX, e.INDEX_HNSW_EF_SEARCH),
    },
    reddb:
      e.REDDB_URL === undefined
        ? undefined
        : { url: e.REDDB_URL, namespace: e.REDDB_NAMESPACE, token: e.REDDB_TOKEN, stream: e.REDDB_INDEX_STREAM },
  };
}

function advertisedUrl(configured: string | undefined, port: number): string {
  return (configured ?? `http://127.0.0.1:${port}`).replace(/\/+$/, "");
}

export type IndexerConfig = ReturnType<typeof parseIndexerConfig>;
