import type { TopicReplication } from "../kafka/topics";
import { ConfigError, parseEnv, type RawEnv } from "./env";

/**
 * KAFKA_REPLICATION_FACTOR and KAFKA_MIN_INSYNC_REPLICAS, for every process that
 * creates a missing topic (launcher, parse worker, Spark job, embed-worker,
 * emb-indexer), so a topic is replicated the same way whoever creates it first.
 */
export function parseTopicReplication(env: RawEnv): Required<Pick<TopicReplication, "replicationFactor">> & TopicReplication {
  const e = parseEnv(["KAFKA_REPLICATION_FACTOR", "KAFKA_MIN_INSYNC_REPLICAS"], env);
  if (e.KAFKA_MIN_INSYNC_REPLICAS !== undefined && e.KAFKA_MIN_INSYNC_REPLICAS > e.KAFKA_REPLICATION_FACTOR) {
    const expected = `at most KAFKA_REPLICATION_FACTOR (${e.KAFKA_REPLICATION_FACTOR})`;
    throw new ConfigError(
      "KAFKA_MIN_INSYNC_REPLICAS",
      expected,
      `invalid configuration: KAFKA_MIN_INSYNC_REPLICAS=${e.KAFKA_MIN_INSYNC_REPLICAS}: expected ${expected}, or no write with acks=all could ever succeed`,
    );
  }
  return { replicationFactor: e.KAFKA_REPLICATION_FACTOR, minInsyncReplicas: e.KAFKA_MIN_INSYNC_REPLICAS };
}
