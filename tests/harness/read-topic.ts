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

/** kafkajs' cluster, as far as logEnds uses it. */
interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number }[];
  fetchTopicsOffset(q: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[]): Promise<{ partitions: { partition: number; offset: string }[] }[]>;
}
const READ_UNCOMMITTED = 0;

/**
 * Each partition's log start and end (high watermark) now. kafkajs' admin
 * lists offsets read_committed only, which gives the last stable offset: it
 * stays before a transaction whose commit() has returned until the broker
 * has written its markers, a moment later. Its Kafka object builds clusters
 * through a private factory (as lib/kafka/partition-fetch.ts uses it); one
 * read_uncommitted cluster asks for the high watermark.
 */
async function logEnds(kafka: Kafka, topic: string): Promise<{ partition: number; low: bigint; high: bigint }[]> {
  const factory = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster");
  if (!factory) throw new Error("kafkajs without its cluster factory (tests/harness/read-topic.ts expects kafkajs 2.2.x)");
  const cluster = (kafka as unknown as Record<symbol, (o: object) => Cluster>)[factory]!({ allowAutoTopicCreation: false, isolationLevel: READ_UNCOMMITTED });
  await cluster.connect();
  try {
    await cluster.addTargetTopic(topic);
    await cluster.refreshMetadataIfNecessary();
    const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId }));
    const [high] = await cluster.fetchTopicsOffset([{ topic, fromBeginning: false, partitions }]);
    const [low] = await cluster.fetchTopicsOffset([{ topic, fromBeginning: true, partitions }]);
    const lowOf = new Map(low!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
    return high!.partitions.map((p) => ({ partition: p.partition, low: lowOf.get(p.partition) ?? 0n, high: BigInt(p.offset) }));
  } finally {
    await cluster.disconnect();
  }
}

/**
 * Every record of `topic` a read_committed consumer sees (read_uncommitted
 * with `readUncommitted`), up to the end offsets (high watermarks) the topic
 * had when this read began, in offset order per partition.
 *
 * A partition is done when the consumer's position reaches its end, however
 * the last offsets are filled: data, an aborted transaction's records, or the
 * commit and abort markers (control records, which no eachMessage ever sees;
 * kafkajs still reports the batch that covered them). A read_committed read
 * waits for the transactions before the end to be decided (a commit that has
 * returned has its markers a moment later); one left open makes it time out.
 * Nothing is written to the topic, so a second read sees what the first saw
 * plus what came since. The consumer is always disconnected, also when the
 * read fails or times out.
 */
export async function readTopic(kafka: Kafka, topic: string, { timeoutMs = 60_000, readUncommitted = false } = {}): Promise<ReadRecord[]> {
  const offsets = await logEnds(kafka, topic);
  const end = new Map(offsets.map((o) => [o.partition, o.high]));
  const pending = new Set(offsets.filter((o) => o.high > o.low).map((o) => o.partition));
  if (pending.size === 0) return [];

  const consumer = kafka.consumer({ groupId: unique(`read-${topic}`), readUncommitted, maxWaitTimeInMs: 250 });
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
