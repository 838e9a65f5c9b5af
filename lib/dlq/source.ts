import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { ApiError } from "@/lib/http/api-error";
import type { DlqStage } from "@/lib/records/dlq-record";
import { upstreamJson } from "@/lib/upstreams/http";
import { isMissingTopic, planNewest as planTopic, readRanges, type ReadMessage, type ReadPlan } from "@/lib/upstreams/kafka";
import { pushToPull, trackReader, type OpenItems } from "@/lib/download/stream";
import { REPLAY_HEADER, decodeJson, toDlqItem, type DlqItem, type DlqTopics } from "./item";
import { deadlinePartial, downloadPartial, reddbReadPartial, type DlqPartial } from "./partial";
import { fillReddbPath } from "./reddb-path";

/** How long a DLQ read for the page may take before it answers with what it has (and says so). */
export const READ_DEADLINE_MS = 10_000;

/**
 * Offsets read per entry wanted. Every DLQ writer is transactional, and each
 * transaction leaves a commit marker on each partition it wrote: N offsets hold
 * as few as N/2 entries. Reading 2N and keeping the newest N answers N entries
 * whenever the topics hold them (fewer only past aborted transactions).
 */
const OFFSETS_PER_ENTRY = 2;

/** Downloads up to this many entries are the newest N exactly, merged across topics as the page shows them; larger ones stream. */
export const BUFFERED_DOWNLOAD_MAX = 10_000;

/**
 * Where entries are read from. `kafka` (the default): both Kafka DLQ topics,
 * PARSE_DLQ_TOPIC and EMBED_DLQ_TOPIC, which between them hold every stage's
 * entries. `reddb`: RedDB's REDDB_DLQ_STREAM, when REDDB_URL is set — the
 * embed-worker writes each of its entries there as well as to EMBED_DLQ_TOPIC,
 * so the two are never merged (each entry would show twice); the stream is a
 * view of its own, useful when the Kafka topic's retention has dropped entries.
 */
export type DlqSourceKind = "kafka" | "reddb";

export interface DlqQuery {
  limit: number;
  stage?: DlqStage;
  source?: DlqSourceKind;
}

export function dlqTopics(): DlqTopics {
  const t = consoleConfig().topics;
  return { parse: t.parseDlq, embed: t.dlq, embeddings: t.embeddings };
}

/** The sources this console can read: RedDB only when configured. */
export function dlqSources(): DlqSourceKind[] {
  return consoleConfig().reddb ? ["kafka", "reddb"] : ["kafka"];
}

/** The Kafka DLQ topics that can hold entries of `stage` (all when no stage is asked for). */
export function kafkaTopicsFor(stage: DlqStage | undefined, topics: DlqTopics): string[] {
  if (stage === "parse") return [topics.parse];
  if (stage === "embed" || stage === "index") return [topics.embed];
  return [...new Set([topics.parse, topics.embed])];
}

/** A DLQ topic nothing has written to may not exist yet (the Spark job's, on a stack that never ran it): it holds nothing. */
async function planNewest(topic: string, limit: number | "all"): Promise<ReadPlan> {
  try {
    return await planTopic(topic, limit);
  } catch (err) {
    if (isMissingTopic(err)) return { topic, ranges: [] };
    throw err;
  }
}

/** Newest first by when dead-lettered; ties by id, so the order is stable. */
export function newestFirst(a: DlqItem, b: DlqItem): number {
  return (b.ts ?? 0) - (a.ts ?? 0) || a.id.localeCompare(b.id);
}

/** Entries read from several DLQs as one list: of the stage asked for, newest first, at most `limit`. */
export function mergeDlqItems(lists: DlqItem[][], { limit, stage }: { limit: number; stage?: DlqStage }): DlqItem[] {
  return lists.flat().filter((i) => !stage || i.stage === stage).sort(newestFirst).slice(0, limit);
}

export function kafkaItem(topic: string, m: ReadMessage, topics: DlqTopics): DlqItem {
  return toDlqItem({ kind: "kafka", topic, partition: m.partition, offset: m.offset }, decodeJson(m.value), m.headers[REPLAY_HEADER], m.timestamp / 1000, topics);
}

/** A description of what was read, for answers and audit lines: `kafka:agent.results.dlq,embeddings_dlq` or `reddb:<ns>/<stream>`. */
export function describeSource(source: DlqSourceKind, stage?: DlqStage): string {
  const cfg = consoleConfig();
  if (source === "reddb" && cfg.reddb) return `reddb:${cfg.reddb.namespace}/${cfg.reddb.dlqStream}`;
  return `kafka:${kafkaTopicsFor(stage, dlqTopics()).join(",")}`;
}

function requireSource(source: DlqSourceKind): void {
  if (source === "reddb" && !consoleConfig().reddb) throw new ApiError("invalid_request", "source: reddb needs REDDB_URL set on the console");
}

export interface DlqRead {
  items: DlqItem[];
  /** `partial === null`. */
  complete: boolean;
  /** Why the answer holds only part of what was asked (lib/dlq/partial.ts), or null. */
  partial: DlqPartial | null;
}

/**
 * The newest `limit` entries of the stage asked for (all stages by default),
 * newest first: each Kafka DLQ topic's newest 2×`limit` offsets read in
 * parallel and merged, or RedDB's stream. `partial` says when the answer is
 * short of what was asked: RedDB returned its per-read cap while holding more
 * (`source_cap`), or a Kafka read hit its deadline (`deadline`, READ_DEADLINE_MS
 * unless `deadlineMs` says otherwise; `null` = only `signal` stops it).
 */
export async function readDlq(q: DlqQuery, signal: AbortSignal, opts: { deadlineMs?: number | null } = {}): Promise<DlqRead> {
  const source = q.source ?? "kafka";
  requireSource(source);
  if (source === "reddb") {
    const { items, partial } = await readReddb(q.limit, signal);
    return { items: mergeDlqItems([items], q), complete: partial === null, partial };
  }
  const topics = dlqTopics();
  const deadlineMs = opts.deadlineMs === undefined ? READ_DEADLINE_MS : opts.deadlineMs;
  const deadline = deadlineMs === null ? signal : AbortSignal.any([signal, AbortSignal.timeout(deadlineMs)]);
  const reads = await Promise.all(kafkaTopicsFor(q.stage, topics).map(async (topic) => {
    const items: DlqItem[] = [];
    const { complete } = await readRanges(await planNewest(topic, q.limit * OFFSETS_PER_ENTRY), (m) => void items.push(kafkaItem(topic, m, topics)), deadline);
    return { items, complete };
  }));
  const items = mergeDlqItems(reads.map((r) => r.items), q);
  const partial = reads.every((r) => r.complete) ? null : deadlinePartial(items.length, deadlineMs ?? 0);
  return { items, complete: partial === null, partial };
}

export interface DownloadPlan {
  /** Opens the entries (lib/download/stream.ts streams them); stops its reads when the signal aborts or the iterator returns. */
  open: OpenItems<DlqItem>;
  /** Set when the source will cap the answer, known from the query before any read (RedDB: at most 1,000). */
  partial: DlqPartial | null;
}

/**
 * A download: plans first (so an unreachable broker is a 502, not a broken
 * file), then `open` yields the entries of the stage, pulled as the client
 * reads. Up to 10,000: the newest N, as the page lists them (read whole, then
 * written; no read deadline but the download's). More, or `all`: each topic
 * streamed as it is read, topic by topic, through a bounded queue, so the
 * consumer waits for a slow client; N then counts each topic's newest offsets,
 * transaction markers included. RedDB: its newest 1,000 at most (`partial`).
 * A read that stops short (the download's deadline, the client gone) fails the
 * iterator: never a silently short file.
 */
export async function planDownload(q: { limit: number | "all"; stage?: DlqStage; source?: DlqSourceKind }): Promise<DownloadPlan> {
  const source = q.source ?? "kafka";
  requireSource(source);
  const partial = downloadPartial({ source, limit: q.limit });
  if (source === "reddb" || (q.limit !== "all" && q.limit <= BUFFERED_DOWNLOAD_MAX)) {
    const limit = q.limit === "all" ? BUFFERED_DOWNLOAD_MAX : Math.min(q.limit, BUFFERED_DOWNLOAD_MAX);
    if (source === "kafka") await planNewest(dlqTopics().embed, 1); // fail before the file starts when Kafka is down
    return { partial, open: (signal) => bufferedItems({ limit, stage: q.stage, source }, signal) };
  }
  const topics = dlqTopics();
  const plans: ReadPlan[] = [];
  for (const topic of kafkaTopicsFor(q.stage, topics)) plans.push(await planNewest(topic, q.limit));
  const keep = (i: DlqItem) => !q.stage || i.stage === q.stage;
  return {
    partial,
    open: (signal) => pushToPull(async (push, readSignal) => {
      for (const plan of plans) {
        if (readSignal.aborted) return;
        await trackReader(() => readRanges(plan, async (m) => {
          const item = kafkaItem(plan.topic, m, topics);
          if (keep(item)) await push(item);
        }, readSignal));
      }
    }, signal),
  };
}

/** The newest N as the page lists them, read whole (bounded by BUFFERED_DOWNLOAD_MAX), then handed out one per pull. */
async function* bufferedItems(q: DlqQuery, signal: AbortSignal): AsyncGenerator<DlqItem, void, undefined> {
  const read = await trackReader(() => readDlq(q, signal, { deadlineMs: null }));
  signal.throwIfAborted();
  if (q.source !== "reddb" && read.partial) throw new Error(`DLQ read stopped short: ${read.partial.message}`);
  yield* read.items;
}

async function readReddb(limit: number, signal: AbortSignal): Promise<{ items: DlqItem[]; partial: DlqPartial | null }> {
  const r = consoleConfig().reddb!;
  const topics = dlqTopics();
  const path = fillReddbPath(r.dlqPath, { ns: r.namespace, stream: r.dlqStream, limit });
  const headers: Record<string, string> = r.token ? { authorization: `Bearer ${r.token}` } : {};
  const { body } = await upstreamJson<unknown>(`${r.url}${path.startsWith("/") ? "" : "/"}${path}`, { headers, signal, timeoutMs: READ_DEADLINE_MS });
  const rows = Array.isArray(body) ? body : Array.isArray((body as { items?: unknown })?.items) ? (body as { items: unknown[] }).items : [];
  const entries = rows.map((row) => (row ?? {}) as { offset?: unknown; value?: unknown });
  const items = entries.map(({ offset, value }) => {
    const v = typeof value === "string" ? decodeJson(Buffer.from(value)) : value;
    return toDlqItem({ kind: "reddb", stream: r.dlqStream, offset: String(offset) }, v, (v as { replay_count?: unknown })?.replay_count ?? "", null, topics);
  });
  return { items, partial: reddbReadPartial(limit, entries.map((e) => e.offset)) };
}
