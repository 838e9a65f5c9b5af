import { createRequire } from "node:module";
import type { IHeaders, Kafka } from "kafkajs";
import { closeKafkaCluster, kafkaCluster, READ_COMMITTED, type FetchPurpose } from "./private-cluster";

export type { FetchPurpose } from "./private-cluster";

/**
 * Read a partition from an offset the way `assign` + `seek` would in a Java
 * client: a plain read_committed Fetch, no consumer group (no join, nothing
 * committed, nothing listed by the broker), never waiting for data that is
 * not there. kafkajs has no public Fetch outside a group: we fetch through
 * its cluster (lib/kafka/private-cluster.ts) and filter the answer with the
 * Batch class its consumer uses (aborted transactions and control records
 * out), so what we read is exactly what our consumers get.
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
interface BatchLike {
  messages: RawMessage[];
  lastOffset(): string;
  isEmptyIncludingFiltered(): boolean;
}

const requireKafkajs = createRequire(import.meta.url);
const Batch = requireKafkajs("kafkajs/src/consumer/batch") as new (topic: string, fetchedOffset: string, partition: FetchedPartition) => BatchLike;
/** Kafka's OFFSET_OUT_OF_RANGE: the offset is before the log start (retention removed it) or past the end. */
export const OFFSET_OUT_OF_RANGE = 1;

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
    const cluster = await kafkaCluster(kafka, purpose);
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
    const data = (res.responses.flatMap((r) => r.partitions) as FetchedPartition[]).find((p) => p.partition === partition);
    if (!data) throw new Error(`no fetch answer for ${topic}/${partition}`);
    if (data.errorCode !== 0) throw new PartitionFetchError(data.errorCode, `fetch of ${topic}/${partition} at ${offset} failed (Kafka error code ${data.errorCode})`);
    const batch = new Batch(topic, offset.toString(), data);
    const records = batch.messages.map((m) => ({ offset: m.offset, timestamp: m.timestamp, key: m.key ?? null, value: m.value ?? null, headers: m.headers ?? {} }));
    // lastOffset() counts markers and aborted records too: the position moves past them.
    const next = batch.isEmptyIncludingFiltered() ? offset : BigInt(batch.lastOffset()) + 1n;
    return { records, next, lastStable: BigInt(data.lastStableOffset), highWatermark: BigInt(data.highWatermark) };
  } catch (err) {
    if (!(err instanceof PartitionFetchError)) await closeKafkaCluster(kafka, purpose);
    throw err;
  }
}
