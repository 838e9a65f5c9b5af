import type { Kafka } from "kafkajs";
import { fetchPartition } from "./partition-fetch";
import { closeKafkaCluster, type FetchPurpose } from "./private-cluster";

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

export interface ReadableCount {
  /** Records a read_committed consumer would get in [from, to). */
  records: number;
  /** False when the count is the offset gap (gap over EXACT_GAP_MAX or the read did not finish). */
  exact: boolean;
}

/**
 * Count what a read_committed consumer would get in [from, to). A gap of
 * more than EXACT_GAP_MAX offsets is not read: its count is the offset gap
 * (approximate; markers are one offset per transaction). Reading stops at
 * the last stable offset (an open transaction's records are not readable
 * yet, and may never be). `purpose`: the lag poller's by default; a
 * request's count reads over the request connections.
 */
export async function countReadable(kafka: Kafka, topic: string, partition: number, from: bigint, to: bigint, purpose: FetchPurpose = "poll"): Promise<ReadableCount> {
  if (to <= from) return { records: 0, exact: true };
  const gap = Number(to - from);
  if (to - from > BigInt(EXACT_GAP_MAX)) return { records: gap, exact: false };
  let records = 0;
  let offset = from;
  for (let i = 0; i < MAX_FETCHES; i++) {
    const { records: got, next, lastStable } = await fetchPartition(kafka, purpose, topic, partition, offset);
    records += got.filter((m) => BigInt(m.offset) < to).length;
    if (next === offset || next >= to || next >= lastStable) return { records, exact: true };
    offset = next;
  }
  return { records: gap, exact: false };
}

/** Close the read_committed cluster of `kafka`, if one was opened (tests, shutdown). */
export async function closeReadableCount(kafka: Kafka): Promise<void> {
  await closeKafkaCluster(kafka, "poll");
}
