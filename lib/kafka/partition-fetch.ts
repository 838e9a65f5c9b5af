import { createRequire } from "node:module";
import type { IHeaders, Kafka } from "kafkajs";

/**
 * Read a partition from an offset the way `assign` + `seek` would in a Java
 * client: a plain read_committed Fetch, no consumer group (no join, nothing
 * committed, nothing listed by the broker), never waiting for data that is
 * not there. kafkajs has no public Fetch outside a group; its Kafka object
 * builds its clusters through a private factory, and its consumer filters a
 * fetch (aborted transactions and control records out) in its Batch class.
 * We use both, so what we read is exactly what our consumers get.
 * tests/unit/lag-kafkajs-internals.test.ts fails if an upgrade moves either.
 */

/** Bytes per fetch and partition: large enough for a batch of a thousand small records, small enough to hold a few at once. */
export const FETCH_MAX_BYTES = 1024 * 1024;

/** A record as a read_committed consumer gets it. */
export interface FetchedRecord {
  offset: string;
  /** Epoch milliseconds, as kafkajs gives it (a decimal string). */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

export interface PartitionFetch {
  records: FetchedRecord[];
  /** Where the next fetch starts: past the records, markers and aborted data this one covered. Equal to the offset asked for when it covered nothing. */
  next: bigint;
  /** The last stable offset: nothing at or past it is readable yet (an open transaction, or the end). */
  lastStable: bigint;
  highWatermark: bigint;
}

interface RawMessage {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
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

const requireKafkajs = createRequire(import.meta.url);
const Batch = requireKafkajs("kafkajs/src/consumer/batch") as new (topic: string, fetchedOffset: string, partition: FetchedPartition) => BatchLike;
const READ_COMMITTED = 1;
/** Kafka's OFFSET_OUT_OF_RANGE: the offset is before the log start (retention removed it) or past the end. */
export const OFFSET_OUT_OF_RANGE = 1;

/**
 * Who reads through a cluster: each has its own broker connections, so a
 * request's long read (a topic export, a DLQ download) never queues ahead of
 * a poller's small fetches (a broker answers one request per connection at a
 * time): `poll` for the console's pollers (lag counts, DLQ counts, Spark
 * progress), `request` for what a user asked for.
 */
export type FetchPurpose = "poll" | "request";

const clusters = new WeakMap<Kafka, Map<FetchPurpose, Promise<Cluster>>>();

function clusterOf(kafka: Kafka, purpose: FetchPurpose): Promise<Cluster> {
  let byPurpose = clusters.get(kafka);
  if (!byPurpose) clusters.set(kafka, (byPurpose = new Map()));
  let c = byPurpose.get(purpose);
  if (!c) {
    const factory = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster");
    if (!factory) throw new Error("kafkajs without its cluster factory (lib/kafka/partition-fetch.ts expects kafkajs 2.2.x)");
    const make = (kafka as unknown as Record<symbol, (o: object) => Cluster>)[factory]!;
    const made = (async () => {
      const cluster = make({ allowAutoTopicCreation: false, isolationLevel: READ_COMMITTED });
      await cluster.connect();
      return cluster;
    })();
    made.catch(() => byPurpose.delete(purpose));
    byPurpose.set(purpose, made);
    c = made;
  }
  return c;
}

/** Forget a purpose's cluster (after a failure, so the next fetch reconnects; or at shutdown). */
export async function closeFetchCluster(kafka: Kafka, purpose: FetchPurpose): Promise<void> {
  const byPurpose = clusters.get(kafka);
  const c = byPurpose?.get(purpose);
  byPurpose?.delete(purpose);
  await c?.then((cl) => cl.disconnect()).catch(() => {});
}

/** A fetch the broker refused for this partition (its Kafka error code), e.g. OFFSET_OUT_OF_RANGE. */
export class PartitionFetchError extends Error {
  override name = "PartitionFetchError";
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One read_committed fetch of `partition` from `offset`: what a consumer
 * seeking there would get first. Never waits: at the end (or at an open
 * transaction) it answers with no records and `next === offset`.
 */
export async function fetchPartition(kafka: Kafka, purpose: FetchPurpose, topic: string, partition: number, offset: bigint, maxBytes = FETCH_MAX_BYTES): Promise<PartitionFetch> {
  try {
    const cluster = await clusterOf(kafka, purpose);
    await cluster.addTargetTopic(topic);
    await cluster.refreshMetadataIfNecessary();
    const [nodeId] = Object.keys(cluster.findLeaderForPartitions(topic, [partition]));
    if (nodeId === undefined) throw new Error(`no leader for ${topic}/${partition}`);
    const broker = await cluster.findBroker({ nodeId });
    const res = await broker.fetch({
      replicaId: -1,
      isolationLevel: READ_COMMITTED,
      maxWaitTime: 0,
      minBytes: 0,
      maxBytes,
      topics: [{ topic, partitions: [{ partition, fetchOffset: offset.toString(), maxBytes }] }],
    });
    const data = res.responses.flatMap((r) => r.partitions).find((p) => p.partition === partition);
    if (!data) throw new Error(`no fetch answer for ${topic}/${partition}`);
    if (data.errorCode !== 0) throw new PartitionFetchError(data.errorCode, `fetch of ${topic}/${partition} at ${offset} failed (Kafka error code ${data.errorCode})`);
    const batch = new Batch(topic, offset.toString(), data);
    const records = batch.messages.map((m) => ({ offset: m.offset, timestamp: m.timestamp, key: m.key ?? null, value: m.value ?? null, headers: m.headers ?? {} }));
    // lastOffset() counts markers and aborted records too: the position moves past them.
    const next = batch.isEmptyIncludingFiltered() ? offset : BigInt(batch.lastOffset()) + 1n;
    return { records, next, lastStable: BigInt(data.lastStableOffset), highWatermark: BigInt(data.highWatermark) };
  } catch (err) {
    if (!(err instanceof PartitionFetchError)) await closeFetchCluster(kafka, purpose);
    throw err;
  }
}
