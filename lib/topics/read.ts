import "server-only";
import { ApiError } from "@/lib/http/api-error";
import { fetchPartition, OFFSET_OUT_OF_RANGE, PartitionFetchError, type FetchedRecord } from "@/lib/kafka/partition-fetch";
import { kafka, withAdmin } from "@/lib/upstreams/kafka";
import { findPipelineTopic, pipelineTopics, type CatalogTopic } from "./catalog";
import type { ReadMode } from "./types";

/**
 * Reading a pipeline topic for the browser: where each partition's read
 * starts (offset, timestamp, cursor, or its tail for the newest records),
 * checked against what the topic holds (a 4xx that gives the valid range),
 * then plain read_committed fetches (lib/kafka/partition-fetch.ts: no
 * group, nothing committed) bounded by a scan budget and a deadline.
 */

/** A page's read ends at this deadline and answers with what it has, saying so: a browser request never hangs on a huge key scan. */
export const READ_DEADLINE_MS = 10_000;
/**
 * Offsets a page's read looks at, at most, over all partitions: with a key
 * filter, how far it searches (~100 MB of 1 KB records, well inside the
 * deadline on a local broker); without one it stops long before.
 */
export const SCAN_BUDGET = 100_000;

export interface PartitionRange {
  partition: number;
  start: bigint;
  end: bigint;
}

export interface Position {
  partition?: number;
  offset?: bigint;
  timestamp?: number;
  cursor?: Map<number, bigint>;
}

/** The catalog entry of a browsable topic, or 404 `unknown_topic` naming the ones there are. */
export function browsableTopic(name: string): CatalogTopic {
  const t = findPipelineTopic(name);
  if (!t) throw new ApiError("unknown_topic", `${JSON.stringify(name.slice(0, 300))} is not one of the pipeline's topics; these are: ${pipelineTopics().map((p) => p.name).join(", ")}`);
  return t;
}

/** Each partition's log start and end (the last stable offset: what a read_committed reader can reach), or 404 when the topic does not exist yet. */
export async function partitionRanges(topic: string): Promise<PartitionRange[]> {
  return withAdmin(async (admin) => {
    if (!(await admin.listTopics()).includes(topic)) throw new ApiError("unknown_topic", `topic ${topic} does not exist yet: nothing has written to it`);
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.map((o) => ({ partition: o.partition, start: BigInt(o.low), end: BigInt(o.high) })).sort((a, b) => a.partition - b.partition);
  });
}

const describeRanges = (ranges: PartitionRange[]) => ranges.map((r) => `${r.partition}: ${r.start}..${r.end}`).join(", ");

/** Where each chosen partition's read starts, and the mode; 422 `out_of_range` for a partition or offset the topic does not hold. */
export async function startPositions(topic: string, ranges: PartitionRange[], p: Position): Promise<{ mode: ReadMode; starts: Map<number, bigint> }> {
  const byPartition = new Map(ranges.map((r) => [r.partition, r]));
  const known = (partition: number) => {
    const r = byPartition.get(partition);
    if (!r) throw new ApiError("out_of_range", `partition ${partition} does not exist: ${topic} has partitions 0..${ranges.length - 1}`);
    return r;
  };
  const chosen = p.partition !== undefined ? [known(p.partition)] : ranges;
  if (p.cursor) {
    const starts = new Map<number, bigint>();
    for (const [partition, offset] of p.cursor) {
      const r = known(partition);
      // Retention may have removed what a cursor pointed at since: read from the new start.
      starts.set(partition, offset < r.start ? r.start : offset > r.end ? r.end : offset);
    }
    return { mode: "cursor", starts };
  }
  if (p.offset !== undefined) {
    const r = chosen[0]!;
    if (p.offset < r.start || p.offset > r.end) {
      throw new ApiError("out_of_range", `offset ${p.offset} is outside partition ${r.partition}'s records: it holds offsets ${r.start}..${r.end} (start..end, end is the next to be written); partitions: ${describeRanges(ranges)}`);
    }
    return { mode: "offset", starts: new Map([[r.partition, p.offset]]) };
  }
  if (p.timestamp !== undefined) {
    const at = await withAdmin((a) => a.fetchTopicOffsetsByTimestamp(topic, p.timestamp));
    const offsetOf = new Map(at.map((o) => [o.partition, BigInt(o.offset)]));
    // No record at or after the time: the partition's end (nothing to read there yet).
    return { mode: "timestamp", starts: new Map(chosen.map((r) => { const o = offsetOf.get(r.partition) ?? -1n; return [r.partition, o < 0n ? r.end : o < r.start ? r.start : o]; })) };
  }
  return { mode: "newest", starts: new Map(chosen.map((r) => [r.partition, r.end])) };
}

export interface ScanResult {
  /** Matching records in offset order. */
  records: (FetchedRecord & { partition: number })[];
  /** Offsets covered (records, markers and aborted data). */
  scanned: number;
  /** Where a forward read would go on (after the last offset covered). */
  next: bigint;
  /** Stopped by the deadline or the budget before it found `want` or reached the end. */
  cut: "deadline" | "scan_limit" | null;
}

export interface ScanOptions {
  want: number;
  budget: number;
  key?: Buffer;
  /**
   * Only records stamped at or after this (epoch ms). A read from a time
   * starts at the offset Kafka's time index gives, the first whose timestamp
   * is at or after it; records after that offset may still be older (a
   * producer's own timestamps, or a transaction marker stamped by the broker
   * after records that carry an older time): they are not shown.
   */
  notBefore?: number;
  signal: AbortSignal;
}

/** Whether `r` passes a read's filters (key, time). */
export function matches(r: FetchedRecord, o: Pick<ScanOptions, "key" | "notBefore">): boolean {
  if (o.key !== undefined && !(r.key !== null && r.key.equals(o.key))) return false;
  return o.notBefore === undefined || Number(r.timestamp) >= o.notBefore;
}

/** Read forward from `from` until `want` matching records, the range's end, the budget or the signal. */
export async function scanForward(topic: string, range: PartitionRange, from: bigint, o: ScanOptions): Promise<ScanResult> {
  const records: ScanResult["records"] = [];
  let offset = from;
  let scanned = 0;
  while (offset < range.end) {
    if (o.signal.aborted) return { records, scanned, next: offset, cut: "deadline" };
    if (scanned >= o.budget) return { records, scanned, next: offset, cut: "scan_limit" };
    let got;
    try {
      got = await fetchPartition(kafka(), "request", topic, range.partition, offset);
    } catch (err) {
      // Retention removed the offset since the read was planned: nothing older is left, go on from the new start.
      if (err instanceof PartitionFetchError && err.code === OFFSET_OUT_OF_RANGE) {
        const now = (await partitionRanges(topic)).find((r) => r.partition === range.partition);
        if (now && now.start > offset) {
          offset = now.start;
          continue;
        }
      }
      throw err;
    }
    for (const r of got.records) {
      const at = BigInt(r.offset);
      if (at >= range.end) break;
      if (!matches(r, o)) continue;
      records.push({ ...r, partition: range.partition });
      if (records.length >= o.want) return { records, scanned: scanned + Number(at + 1n - offset), next: at + 1n, cut: null };
    }
    if (got.next === offset) break;
    const next = got.next < range.end ? got.next : range.end;
    scanned += Number(next - offset);
    offset = next;
  }
  return { records, scanned, next: offset, cut: null };
}

/**
 * The newest `want` matching records before `range.end`, newest last: windows
 * read forward, each further back and twice the size of the one before, until
 * enough are found, the log start, the budget or the signal.
 */
export async function scanBackward(topic: string, range: PartitionRange, o: ScanOptions): Promise<ScanResult> {
  let found: ScanResult["records"] = [];
  let end = range.end;
  let scanned = 0;
  let window = BigInt(Math.max(64, Math.min(o.want * 2, 4096)));
  while (found.length < o.want && end > range.start) {
    if (o.signal.aborted) return { records: found.slice(-o.want), scanned, next: range.end, cut: "deadline" };
    if (scanned >= o.budget) return { records: found.slice(-o.want), scanned, next: range.end, cut: "scan_limit" };
    const start = end - window > range.start ? end - window : range.start;
    const part = await scanForward(topic, { ...range, end }, start, { ...o, want: Number.MAX_SAFE_INTEGER, budget: o.budget - scanned });
    found = [...part.records, ...found];
    scanned += part.scanned;
    if (part.cut) return { records: found.slice(-o.want), scanned, next: range.end, cut: part.cut };
    end = start;
    window *= 2n;
  }
  return { records: found.slice(-o.want), scanned, next: range.end, cut: null };
}
