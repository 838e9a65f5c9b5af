import "server-only";
import { DOWNLOAD_DEADLINE_MS, pushToPull, trackReader, type OpenItems } from "@/lib/download/stream";
import { ApiError } from "@/lib/http/api-error";
import { readRanges, type ReadMessage } from "@/lib/upstreams/kafka";
import { headerList, showBytes } from "./present";
import type { ExportQuery } from "./query";
import { browsableTopic, matches, partitionRanges, startPositions, type PartitionRange } from "./read";
import type { ShownRecord } from "./types";

/** One line of a topic's export: the record exactly as stored (bytes as UTF-8 text when they are, else base64), never summarised or cut. */
export interface ExportRow extends ShownRecord {
  topic: string;
}

export function exportRow(topic: string, m: ReadMessage): ExportRow {
  return {
    topic,
    partition: m.partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key === null ? null : showBytes(m.key),
    headers: headerList(m.headers),
    value: m.value === null ? null : showBytes(m.value),
  };
}

export const jsonlExportRow = (r: ExportRow) => `${JSON.stringify(r)}\n`;

/** Newest-N exports go this far at most: finding where a partition's newest N records begin keeps their offsets while it reads backwards. Larger: `all`, or a position. */
export const MAX_NEWEST_EXPORT = 100_000;

/**
 * What an export reads, per partition, in the order it is written:
 * partition by partition, each in offset order. From a position (offset,
 * timestamp, cursor): from there to each partition's end. Newest N without
 * a key: N records split across partitions in proportion to the offsets each
 * holds, each partition's share read from where its newest records of that
 * many begin (counted in records: markers and aborted data do not count; a
 * partition holding fewer gives what it has). With a key and no position, or
 * `all`: every partition whole.
 */
async function exportRanges(topic: string, q: ExportQuery, signal: AbortSignal): Promise<PartitionRange[]> {
  const ranges = await partitionRanges(topic);
  const { mode, starts } = await startPositions(topic, ranges, q);
  const chosen = ranges.filter((r) => starts.has(r.partition) && r.end > r.start);
  if (mode !== "newest") return chosen.map((r) => ({ ...r, start: starts.get(r.partition)! })).filter((r) => r.end > r.start);
  if (q.key !== undefined || q.limit === "all") return chosen;
  if (q.limit > MAX_NEWEST_EXPORT) throw new ApiError("invalid_request", `a newest-N export takes at most ${MAX_NEWEST_EXPORT.toLocaleString("en-US")} records; use limit=all, or start from an offset or a timestamp`);
  const shares = splitLimit(q.limit, chosen.map((r) => Number(r.end - r.start)));
  const plan: PartitionRange[] = [];
  for (const [i, r] of chosen.entries()) if (shares[i]! > 0) plan.push({ ...r, start: await tailStart(topic, r, shares[i]!, signal) });
  return plan;
}

/** `limit` split in proportion to `sizes`, whole numbers summing to `limit` (largest remainders first). */
export function splitLimit(limit: number, sizes: number[]): number[] {
  const total = sizes.reduce((n, x) => n + x, 0);
  if (total === 0) return sizes.map(() => 0);
  const exact = sizes.map((x) => (limit * x) / total);
  const shares = exact.map(Math.floor);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (let left = limit - shares.reduce((n, x) => n + x, 0), k = 0; left > 0; left--, k++) shares[order[k % order.length]![1]]! += 1;
  return shares;
}

/** The first offset of a partition's newest `want` records: windows read backwards (each twice the one before), counting records, keeping only their offsets. */
async function tailStart(topic: string, range: PartitionRange, want: number, signal: AbortSignal): Promise<bigint> {
  let end = range.end;
  let found = 0;
  let window = BigInt(Math.min(Math.max(want * 2, 64), 1 << 20));
  while (end > range.start) {
    const start = end - window > range.start ? end - window : range.start;
    const offsets: bigint[] = [];
    const { complete } = await readRanges({ topic, ranges: [{ ...range, start, end }] }, (m) => void offsets.push(BigInt(m.offset)), signal);
    if (!complete) throw new Error(`reading ${topic}/${range.partition} to find its newest records stopped short`);
    if (found + offsets.length >= want) return offsets[offsets.length - (want - found)]!;
    found += offsets.length;
    end = start;
    if (window < 1n << 20n) window *= 2n;
  }
  return range.start;
}

/**
 * A topic export: plans first (so an unknown topic, a bad range or an
 * unreachable broker is a 4xx/502, not a broken file), then `open` streams
 * the rows through the download's bounded queue (lib/download/stream.ts): the
 * read waits for a slow client. Stops after `limit` rows (with a key: rows
 * with that key; from a time: rows stamped at or after it, as the page).
 */
export async function planTopicExport(name: string, q: ExportQuery): Promise<{ open: OpenItems<ExportRow>; filename: string }> {
  const topic = browsableTopic(name);
  const plan = await exportRanges(topic.name, q, AbortSignal.timeout(DOWNLOAD_DEADLINE_MS));
  const filters = { key: q.key === undefined ? undefined : Buffer.from(q.key, "utf8"), notBefore: q.timestamp };
  const limit = q.limit === "all" ? Infinity : q.limit;
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return {
    filename: `${topic.name.replace(/[^\w.-]/g, "_")}-${stamp}.jsonl`,
    open: (signal) =>
      pushToPull<ExportRow>(async (push, readSignal) => {
        let rows = 0;
        const enough = new AbortController();
        const stop = AbortSignal.any([readSignal, enough.signal]);
        for (const range of plan) {
          if (stop.aborted) return;
          await trackReader(() =>
            readRanges({ topic: topic.name, ranges: [range] }, async (m) => {
              if (!matches({ ...m, timestamp: String(m.timestamp) }, filters)) return;
              if (rows >= limit) return;
              rows += 1;
              await push(exportRow(topic.name, m));
              if (rows >= limit) enough.abort();
            }, stop),
          );
        }
      }, signal),
  };
}
