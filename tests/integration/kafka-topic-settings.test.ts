/**
 * ensureTopics against a real broker: a topic it creates carries the replication
 * settings and per-topic configuration asked for (EMBED_OUTPUT_TOPIC compacted),
 * and a topic that already existed is left alone but its differing settings are
 * reported. Replication 3 / min.insync.replicas 2 on three nodes: the cluster stage.
 */
import kafkajs from "kafkajs";
import { describe, expect, inject, it } from "vitest";
import { createKafka } from "../../lib/kafka/client";
import { compactedTopic, ensureTopics, type EnsureTopicsOptions } from "../../lib/kafka/topics";
import { createLogger } from "../../lib/log";
import { unique } from "../harness/unique";

const kafka = createKafka({ clientId: "topic-settings-test", brokers: inject("kafkaBrokers"), log: createLogger("topic-settings-test", "warn") });

async function settings(topic: string): Promise<Record<string, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ["cleanup.policy", "min.insync.replicas"] }] });
    return Object.fromEntries(resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
  } finally {
    await admin.disconnect();
  }
}

describe("ensureTopics' topic settings", () => {
  it.each<[string, (t: string) => EnsureTopicsOptions, Record<string, string>]>([
    ["compacted, min ISR 1", (t) => ({ replicationFactor: 1, minInsyncReplicas: 1, configs: compactedTopic(t) }), { "cleanup.policy": "compact", "min.insync.replicas": "1" }],
    ["another topic's configs do not apply", () => ({ replicationFactor: 1, configs: compactedTopic("some-other-topic") }), { "cleanup.policy": "delete" }],
  ])("a new topic: %s", async (_what, opts, expected) => {
    const topic = unique("settings");
    expect(await ensureTopics(kafka, [topic], 2, opts(topic))).toEqual([topic]);
    expect(await settings(topic)).toMatchObject(expected);
  });

  it("an existing topic is left as it is, and what differs is reported", async () => {
    const topic = unique("existing");
    await ensureTopics(kafka, [topic], 1, { replicationFactor: 1 });
    const differences: unknown[] = [];
    expect(await ensureTopics(kafka, [topic], 1, { replicationFactor: 1, configs: compactedTopic(topic), onExistingDiffers: (d) => differences.push(d) })).toEqual([]);
    expect(differences).toEqual([{ topic, name: "cleanup.policy", wanted: "compact", actual: "delete" }]);
    expect((await settings(topic))["cleanup.policy"]).toBe("delete");
  });
});
