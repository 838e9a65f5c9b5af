import type { Kafka, KafkaMessage } from "kafkajs";
import { unique } from "./unique";
import { waitFor } from "./wait-for";

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

/**
 * Every record of `topic` a read_committed consumer sees, up to the end
 * offsets the topic had when this read began, in offset order per partition.
 *
 * The ends are the partitions' last stable offsets (kafkajs' ListOffsets asks
 * read_committed), so a transaction still open is not waited for. A partition
 * is done when the consumer's position reaches its end, however the last
 * offsets are filled: data, an aborted transaction's records, or the commit
 * and abort markers (control records, which no eachMessage ever sees; kafkajs
 * still reports the batch that covered them). Nothing is written to the topic,
 * so a second read sees what the first saw plus what came since. The consumer
 * is always disconnected, also when the read fails or times out.
 */
export async function readTopic(kafka: Kafka, topic: string, { timeoutMs = 60_000 } = {}): Promise<ReadRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  let offsets: { partition: number; high: string; low: string }[];
  try {
    offsets = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const end = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  const pending = new Set(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => o.partition));
  if (pending.size === 0) return [];

  const consumer = kafka.consumer({ groupId: unique(`read-${topic}`), readUncommitted: false, maxWaitTimeInMs: 250 });
  const records: ReadRecord[] = [];
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === topic && BigInt(payload.lastOffset) + 1n >= (end.get(payload.partition) ?? 0n)) pending.delete(payload.partition);
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        // Written after this read began: the next read's.
        if (BigInt(message.offset) < (end.get(partition) ?? 0n)) records.push(asRecord(partition, message));
      },
    });
    await waitFor(`${topic} read to the end offsets it had when the read began`, () => pending.size === 0, timeoutMs, 50);
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
}

/** A record whose value is a JSON object (the pipeline's topics). */
export interface JsonRecord {
  partition: number;
  key: string;
  value: Record<string, unknown>;
  headers: Record<string, string>;
}

/** readTopic, values parsed as JSON: what the workers committed to an output or DLQ topic. */
export async function readCommitted(kafka: Kafka, topic: string, options: { timeoutMs?: number } = {}): Promise<JsonRecord[]> {
  return (await readTopic(kafka, topic, options)).map((r) => ({ partition: r.partition, key: r.key ?? "", value: JSON.parse(r.value) as Record<string, unknown>, headers: r.headers }));
}
