import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { pipelineTopics } from "./catalog";
import { presentRecord, type LinkTargets } from "./present";
import type { MessagesQuery } from "./query";
import { browsableTopic, partitionRanges, READ_DEADLINE_MS, SCAN_BUDGET, scanBackward, scanForward, startPositions, type ScanResult } from "./read";
import type { MessagesAnswer } from "./types";

type Scanned = ScanResult & { partition: number; end: bigint };
type Found = ScanResult["records"][number];

const byTimeAsc = (a: Found, b: Found) => Number(a.timestamp) - Number(b.timestamp) || a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1);

export function linkTargets(): LinkTargets {
  const t = consoleConfig().topics;
  return { embedInput: t.embedInput, embeddings: t.embeddings, browsable: new Set(pipelineTopics().map((p) => p.name)) };
}

/**
 * One page of a pipeline topic: each chosen partition read from its start
 * position (newest: backwards from its end) until it gave `limit` records,
 * then merged by timestamp (oldest first; newest first for `newest`) and cut
 * at `limit`. The answer says where the next page starts, how many offsets
 * were looked at, and why it is short when the deadline or the scan budget
 * stopped it. `signal`: the client went away.
 */
export async function readMessages(name: string, q: MessagesQuery, signal: AbortSignal): Promise<MessagesAnswer> {
  const topic = browsableTopic(name);
  const ranges = await partitionRanges(topic.name);
  const { mode, starts } = await startPositions(topic.name, ranges, q);
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(READ_DEADLINE_MS)]);
  const key = q.key === undefined ? undefined : Buffer.from(q.key, "utf8");
  const budget = Math.ceil(SCAN_BUDGET / Math.max(1, starts.size));
  const scans: Scanned[] = await Promise.all(
    [...starts].map(async ([partition, from]) => {
      const range = ranges.find((r) => r.partition === partition)!;
      const o = { want: q.limit, budget, key, notBefore: mode === "timestamp" ? q.timestamp : undefined, signal: deadline };
      const s = mode === "newest" ? await scanBackward(topic.name, range, o) : await scanForward(topic.name, range, from, o);
      return { ...s, partition, end: range.end };
    }),
  );
  const all = scans.flatMap((s) => s.records).sort(byTimeAsc);
  const picked = mode === "newest" ? all.reverse().slice(0, q.limit) : all.slice(0, q.limit);
  const cut = scans.some((s) => s.cut === "deadline") ? "deadline" : scans.some((s) => s.cut === "scan_limit") ? "scan_limit" : null;
  const scanned = scans.reduce((n, s) => n + s.scanned, 0);
  const targets = linkTargets();
  return {
    topic: topic.name,
    mode,
    messages: picked.map((r) => presentRecord({ ...r, timestamp: Number(r.timestamp) }, topic, targets, { vectors: q.vectors, full: q.full })),
    next: mode === "newest" ? null : nextCursor(scans, new Set(picked)),
    scanned,
    partial: cut && {
      reason: cut,
      message:
        cut === "deadline"
          ? `the read stopped at its ${READ_DEADLINE_MS / 1000} s deadline after looking at ${scanned.toLocaleString("en-US")} offsets: this is part of the answer${mode === "newest" ? "" : "; the next page goes on from where it stopped"}`
          : `looked at ${scanned.toLocaleString("en-US")} offsets (the most one page looks at) without finding ${q.limit}${mode === "newest" ? "; search an older range with a timestamp" : "; the next page goes on from there"}`,
    },
    partitions: ranges.map((r) => ({ partition: r.partition, start: String(r.start), end: String(r.end) })),
    timestamp: Date.now() / 1000,
  };
}

/**
 * Where each partition's next page starts: at its first record this page
 * read but did not show (the merge cut it), else where its read stopped.
 * Null when every partition was read to its end.
 */
function nextCursor(scans: Scanned[], shown: Set<Found>): string | null {
  const next = scans.map((s) => {
    const notShown = s.records.find((r) => !shown.has(r));
    return { partition: s.partition, offset: notShown ? BigInt(notShown.offset) : s.next, end: s.end };
  });
  if (next.every((n) => n.offset >= n.end)) return null;
  return next.map((n) => `${n.partition}:${n.offset}`).join(",");
}
