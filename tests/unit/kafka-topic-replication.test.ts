import { describe, expect, it } from "vitest";
import { parseTopicReplication } from "../../lib/config/kafka-topics";
import { compactedTopic, topicConfigEntries } from "../../lib/kafka/topics";

describe("KAFKA_REPLICATION_FACTOR / KAFKA_MIN_INSYNC_REPLICAS", () => {
  it.each([
    [{}, { replicationFactor: 1, minInsyncReplicas: undefined }],
    [{ KAFKA_REPLICATION_FACTOR: "3" }, { replicationFactor: 3, minInsyncReplicas: undefined }],
    [{ KAFKA_REPLICATION_FACTOR: "3", KAFKA_MIN_INSYNC_REPLICAS: "2" }, { replicationFactor: 3, minInsyncReplicas: 2 }],
    [{ KAFKA_REPLICATION_FACTOR: "3", KAFKA_MIN_INSYNC_REPLICAS: "3" }, { replicationFactor: 3, minInsyncReplicas: 3 }],
    [{ KAFKA_REPLICATION_FACTOR: " ", KAFKA_MIN_INSYNC_REPLICAS: "" }, { replicationFactor: 1, minInsyncReplicas: undefined }],
  ])("%j parses to %j", (env, expected) => {
    expect(parseTopicReplication(env)).toEqual(expected);
  });

  it.each([
    [{ KAFKA_REPLICATION_FACTOR: "0" }, /^invalid configuration: KAFKA_REPLICATION_FACTOR="0": /],
    [{ KAFKA_REPLICATION_FACTOR: "three" }, /^invalid configuration: KAFKA_REPLICATION_FACTOR="three": /],
    [{ KAFKA_MIN_INSYNC_REPLICAS: "2" }, /^invalid configuration: KAFKA_MIN_INSYNC_REPLICAS=2: expected at most KAFKA_REPLICATION_FACTOR \(1\)/],
    [{ KAFKA_REPLICATION_FACTOR: "3", KAFKA_MIN_INSYNC_REPLICAS: "4" }, /KAFKA_MIN_INSYNC_REPLICAS=4: expected at most KAFKA_REPLICATION_FACTOR \(3\)/],
  ])("%j is refused with one line naming the variable", (env, message) => {
    expect(() => parseTopicReplication(env)).toThrow(message);
  });
});

describe("a new topic's settings", () => {
  const configs = compactedTopic("embeddings");
  it.each([
    ["embeddings", { minInsyncReplicas: 2, configs }, { "cleanup.policy": "compact", "min.insync.replicas": "2" }],
    ["embeddings", { configs }, { "cleanup.policy": "compact" }],
    ["embedding_input", { minInsyncReplicas: 2, configs }, { "min.insync.replicas": "2" }],
    ["embedding_input", { configs }, {}],
  ])("%s with %j", (topic, opts, expected) => {
    expect(Object.fromEntries(topicConfigEntries(topic, opts).map((e) => [e.name, e.value]))).toEqual(expected);
  });
});
