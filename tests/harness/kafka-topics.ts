import { randomUUID } from "node:crypto";
import { Partitioners, type Kafka, type KafkaMessage } from "kafkajs";
import { ensureTopics } from "../../lib/kafka/topics";
import { waitFor } from "./wait-for";

/** A name of its own per test run, so reruns against one cluster never collide. */
export const unique = (what: string) => `it-${what}-${Date.now()}-${randomUUID().slice(0, 8)}`;

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

const asRecord = (partition: number, m: KafkaMessage): ReadRecord => ({
  partition,
  offset: m.offset,
  key: m.key === null ? null : m.key.toString("utf8"),
  value: m.value?.toString("utf8") ?? "",
  headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])),
});

/** End markers start with this; each read writes and waits for its own. */
const END_PREFIX = "__end_of_read__:";

/**
 * Every record of `topic` as a read_committed (or read_uncommitted) reader sees
 * it. An end marker is written to each partition first, in a committed
 * transaction; reading stops at the markers, so "nothing more" is checkable
 * without waiting for silence. Markers stay in the topic: a process reading
 * it afterwards sees them (the tests only read topics this way once the
 * workers writing them are done, or skip the markers).
 */
export async function readWholeTopic(kafka: Kafka, topic: string, { readUncommitted = false, timeoutMs = 60_000 } = {}): Promise<ReadRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.map((p) => p.partitionId);
  await admin.disconnect();

  const end = `${END_PREFIX}${randomUUID()}`;
  const producer = kafka.producer({ transactionalId: unique("end-marker"), idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const tx = await producer.transaction();
  // Keyed: a compacted topic (EMBED_OUTPUT_TOPIC) refuses records without a key.
  await tx.send({ topic, messages: partitions.map((partition) => ({ partition, key: end, value: end })) });
  await tx.commit();
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: unique("reader"), readUncommitted, maxWaitTimeInMs: 250 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const records: ReadRecord[] = [];
    const ended = new Set<number>();
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const value = message.value?.toString() ?? "";
        if (value === end) ended.add(partition);
        // Markers of earlier reads are not data.
        else if (!ended.has(partition) && !value.startsWith(END_PREFIX)) records.push(asRecord(partition, message));
      },
    });
    await waitFor(`end markers on all ${partitions.length} partitions of ${topic}`, () => ended.size === partitions.length, timeoutMs, 50);
    return records;
  } finally {
    await consumer.disconnect();
  }
}

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
