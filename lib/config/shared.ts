import { parseEnv, type RawEnv } from "./env";
import { parseTopicReplication } from "./kafka-topics";

/**
 * The configuration every process reads the same way, built once here so a
 * default or a fallback cannot differ between them. Each process's parser
 * (parse.ts, embed-worker.ts, indexer.ts, console.ts, stack.ts, …) spreads or
 * nests these rather than reading the variables again.
 */

/** LOG_LEVEL and SHUTDOWN_TIMEOUT_SEC: how every process logs and how long its shutdown may take. */
export function parseProcessBasics(env: RawEnv) {
  const e = parseEnv(["LOG_LEVEL", "SHUTDOWN_TIMEOUT_SEC"], env);
  return { logLevel: e.LOG_LEVEL, shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_SEC * 1000 };
}

/**
 * The stack's Kafka cluster: an operator's KAFKA_BOOTSTRAP_SERVERS, or else the
 * local broker `npm start` runs on 127.0.0.1:KAFKA_PORT.
 */
export function parseKafkaCluster(env: RawEnv) {
  const e = parseEnv(["KAFKA_BOOTSTRAP_SERVERS", "KAFKA_PORT"], env);
  return {
    brokers: e.KAFKA_BOOTSTRAP_SERVERS ?? [`127.0.0.1:${e.KAFKA_PORT}`],
    /** An operator-supplied cluster: the launcher starts no broker. */
    external: e.KAFKA_BOOTSTRAP_SERVERS !== undefined,
    /** The local broker's port (meaningful when not external). */
    port: e.KAFKA_PORT,
  };
}

/**
 * How a process creates a topic it finds missing: EMBED_TOPIC_PARTITIONS, and
 * KAFKA_REPLICATION_FACTOR / KAFKA_MIN_INSYNC_REPLICAS, so a topic is made the
 * same way whichever process creates it first.
 */
export function parseTopicCreation(env: RawEnv) {
  const e = parseEnv(["EMBED_TOPIC_PARTITIONS"], env);
  return { partitions: e.EMBED_TOPIC_PARTITIONS, replication: parseTopicReplication(env) };
}

/**
 * Every instance of the embedding service: an operator's INFERMESH_URL
 * (comma-separated), or else the bundled service on 127.0.0.1:INFERMESH_PORT.
 */
export function parseEmbeddingServiceUrls(env: RawEnv) {
  const e = parseEnv(["INFERMESH_URL", "INFERMESH_PORT"], env);
  return {
    urls: e.INFERMESH_URL ?? [`http://127.0.0.1:${e.INFERMESH_PORT}`],
    /** An operator-supplied embedding service: the bundled one is not started. */
    external: e.INFERMESH_URL !== undefined,
    port: e.INFERMESH_PORT,
  };
}
