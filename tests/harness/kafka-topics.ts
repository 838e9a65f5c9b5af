import kafkajs, { type Kafka } from "kafkajs";
import { ensureTopics } from "../../lib/kafka/topics";
import { waitFor } from "./wait-for";

/** Committed offset of `groupId` on each partition of `topic` equals its end: everything was consumed. */
export async function groupCaughtUp(kafka: Kafka, groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const byPartition = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
    return ends.every((p) => p.high === "0" || byPartition.get(p.partition) === p.high);
  } finally {
    await admin.disconnect();
  }
}

/** Wait until `groupId` has committed every record of `topic` (offsets = end offsets). */
export async function waitUntilConsumed(kafka: Kafka, groupId: string, topic: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(`group ${groupId} to commit all of ${topic}`, () => groupCaughtUp(kafka, groupId, topic), timeoutMs, 250);
}

/**
 * Topics for a test, kept forever: the shared vectors carry 2023 timestamps,
 * and time-based retention (7 days by default, counted from the records'
 * timestamps) would let the broker delete them at its next retention check.
 * Created through ensureTopics afterwards too, which waits for the leaders; both
 * are tried again while a just-created topic is briefly missing from the
 * broker's metadata (kafkajs' createTopics waitForLeaders retries only
 * LEADER_NOT_AVAILABLE, not UNKNOWN_TOPIC_OR_PARTITION).
 */
/** `config`: topic settings beside the kept-forever retention (e.g. a small `max.message.bytes`). */
export async function createTopics(kafka: Kafka, topics: string[], partitions: number, config: Record<string, string> = {}): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: -1, configEntries: Object.entries({ "retention.ms": "-1", ...config }).map(([name, value]) => ({ name, value })) })),
    });
  } finally {
    await admin.disconnect();
  }
  await waitFor(`topics ${topics.join(", ")}`, async () => {
    await ensureTopics(kafka, topics, partitions);
    return true;
  }, 60_000);
}

/** Change a topic's configuration on the running broker (e.g. lower `max.message.bytes` under a running worker). */
export async function alterTopicConfig(kafka: Kafka, topic: string, config: Record<string, string>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configEntries: Object.entries(config).map(([name, value]) => ({ name, value })) }] });
  } finally {
    await admin.disconnect();
  }
}
