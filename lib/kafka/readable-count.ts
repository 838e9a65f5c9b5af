import { createRequire } from "node:module";
import type { Kafka } from "kafkajs";

/**
 * How many records a read_committed consumer would still get from a
 * partition between two offsets — transaction markers and aborted data count
 * 0. Offsets are not records: a transactional producer writes a commit
 * marker after each transaction, so a consumer that is caught up sits one
 * offset (or more) short of the end. We find out by reading: a plain
 * read_committed Fetch (no consumer group, no join, never waits for data)
 * from the committed offset, filtered as kafkajs' consumer filters it.
 */

/** Offset gaps up to this are counted exactly by reading; a larger gap is reported as the offset gap, flagged approximate. */
export const EXACT_GAP_MAX = 1_000;
/** Fetches per partition and count at most (each ≤ FETCH_MAX_BYTES): bounds a count's cost when records are large. */
const MAX_FETCHES = 8;
/** Bytes per fetch: a gap of ≤ 1,000 small records or markers fits in one. */
const FETCH_MAX_BYTES = 1024 * 1024;

export interface ReadableCount {
  /** Records a read_committed consumer would get in [from, to). */
  records: number;
  /** False when the count is the offset gap (gap over EXACT_GAP_MAX or the read did not finish). */
  exact: boolean;
}

interface RawMessage {
  offset: string;
  isControlRecord?: boolean;
}
interface FetchedPartition {
  partition: number;
  errorCode: number;
  highWatermark: string;
  lastStableOffset: string;
  abortedTransactions: unknown[];
  messages: RawMessage[];
}
interface Broker {
  fetch(req: { replicaId: number; isolationLevel: number; maxWaitTime: number; minBytes: number; maxBytes: number; topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[] }): Promise<{ responses: { topicName: string; partitions: FetchedPartition[] }[] }>;
}
interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(q: { nodeId: string }): Promise<Broker>;
}
interface BatchLike {
  messages: RawMessage[];
  lastOffset(): string;
  isEmptyIncludingFiltered(): boolean;
}

// kafkajs (patched, patches/kafkajs+2.2.4.patch) filters a fetch into what a
// consumer sees in its Batch class: aborted transactions and control records
// removed. Using it keeps our count equal to what our consumers get.
const requireKafkajs = createRequire(import.meta.url);
const Batch = requireKafkajs("kafkajs/src/consumer/batch") as new (topic: string, fetchedOffset: string, partition: FetchedPartition) => BatchLike;
const READ_COMMITTED = 1;

/**
 * kafkajs has no public Fetch outside a consumer group (a group would join,
 * take seconds on brokers with the default initial rebalance delay, and be
 * listed by the broker). Its Kafka object builds its clusters through a
 * private factory; we use it for one read_committed cluster per Kafka client.
 */
const clusters = new WeakMap<Kafka, Promise<Cluster>>();
function clusterOf(kafka: Kafka): Promise<Cluster> {
  let c = clusters.get(kafka);
  if (!c) {
    const factory = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster");
    if (!factory) throw new Error("kafkajs without its cluster factory (readable-count.ts expects kafkajs 2.2.x)");
    const make = (kafka as unknown as Record<symbol, (o: object) => Cluster>)[factory]!;
    c = (async () => {
      const cluster = make({ allowAutoTopicCreation: false, isolationLevel: READ_COMMITTED });
      await cluster.connect();
      return cluster;
    })();
    c.catch(() => clusters.delete(kafka));
    clusters.set(kafka, c);
  }
  return c;
}

/** Forget the cluster after a failure, so the next count reconnects. */
async function dropCluster(kafka: Kafka): Promise<void> {
  const c = clusters.get(kafka);
  clusters.delete(kafka);
  await c?.then((cl) => cl.disconnect()).catch(() => {});
}

/** One read_committed fetch of `partition` from `offset`, as kafkajs' consumer would filter it. */
async function fetchOnce(cluster: Cluster, topic: string, partition: number, offset: bigint): Promise<{ batch: BatchLike; lastStable: bigint }> {
  await cluster.addTargetTopic(topic);
  await cluster.refreshMetadataIfNecessary();
  const [nodeId] = Object.keys(cluster.findLeaderForPartitions(topic, [partition]));
  if (nodeId === undefined) throw new Error(`no leader for ${topic}/${partition}`);
  const broker = await cluster.findBroker({ nodeId });
  const res = await broker.fetch({
    replicaId: -1,
    isolationLevel: READ_COMMITTED,
    // Never wait for data that is not there: the count is of what exists now.
    maxWaitTime: 0,
    minBytes: 0,
    maxBytes: FETCH_MAX_BYTES,
    topics: [{ topic, partitions: [{ partition, fetchOffset: offset.toString(), maxBytes: FETCH_MAX_BYTES }] }],
  });
  const data = res.responses.flatMap((r) => r.partitions).find((p) => p.partition === partition);
  if (!data) throw new Error(`no fetch answer for ${topic}/${partition}`);
  if (data.errorCode !== 0) throw new Error(`fetch of ${topic}/${partition} failed (error code ${data.errorCode})`);
  return { batch: new Batch(topic, offset.toString(), data), lastStable: BigInt(data.lastStableOffset) };
}

/**
 * Count what a read_committed consumer would get in [from, to). A gap of
 * more than EXACT_GAP_MAX offsets is not read: its count is the offset gap
 * (approximate; markers are one offset per transaction). Reading stops at
 * the last stable offset (an open transaction's records are not readable
 * yet, and may never be).
 */
export async function countReadable(kafka: Kafka, topic: string, partition: number, from: bigint, to: bigint): Promise<ReadableCount> {
  if (to <= from) return { records: 0, exact: true };
  const gap = Number(to - from);
  if (to - from > BigInt(EXACT_GAP_MAX)) return { records: gap, exact: false };
  try {
    const cluster = await clusterOf(kafka);
    let records = 0;
    let offset = from;
    for (let i = 0; i < MAX_FETCHES; i++) {
      const { batch, lastStable } = await fetchOnce(cluster, topic, partition, offset);
      records += batch.messages.filter((m) => BigInt(m.offset) < to).length;
      if (batch.isEmptyIncludingFiltered()) return { records, exact: true };
      const next = BigInt(batch.lastOffset()) + 1n;
      if (next >= to || next >= lastStable) return { records, exact: true };
      offset = next;
    }
    return { records: gap, exact: false };
  } catch (err) {
    await dropCluster(kafka);
    throw err;
  }
}

/** Close the read_committed cluster of `kafka`, if one was opened (tests, shutdown). */
export async function closeReadableCount(kafka: Kafka): Promise<void> {
  await dropCluster(kafka);
}
