import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { ApiError } from "@/lib/http/api-error";
import type { DlqStage } from "@/lib/records/dlq-record";
import { upstreamJson } from "@/lib/upstreams/http";
import { isMissingTopic, planNewest as planTopic, readRanges, type ReadMessage, type ReadPlan } from "@/lib/upstreams/kafka";
import { REPLAY_HEADER, decodeJson, toDlqItem, type DlqItem, type DlqTopics } from "./item";
import { fillReddbPath } from "./reddb-path";

/** How long a DLQ read may take before it answers with what it has (and says so). */
const READ_DEADLINE_MS = 10_000;

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
  if (source === "reddb" && !consoleConfig().reddb) throw new ApiError(422, "invalid_request", "source: reddb needs REDDB_URL set on the console");
}

/**
 * The newest `limit` entries of the stage asked for (all stages by default),
 * newest first: each Kafka DLQ topic's newest 2×`limit` offsets read in
 * parallel and merged, or RedDB's stream. `complete: false` when a read hit its deadline.
 */
export async function readDlq(q: DlqQuery, signal: AbortSignal): Promise<{ items: DlqItem[]; complete: boolean }> {
  const source = q.source ?? "kafka";
  requireSource(source);
  if (source === "reddb") return { items: mergeDlqItems([await readReddb(q.limit, signal)], q), complete: true };
  const topics = dlqTopics();
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(READ_DEADLINE_MS)]);
  const reads = await Promise.all(kafkaTopicsFor(q.stage, topics).map(async (topic) => {
    const items: DlqItem[] = [];
    const { complete } = await readRanges(await planNewest(topic, q.limit * OFFSETS_PER_ENTRY), (m) => void items.push(kafkaItem(topic, m, topics)), deadline);
    return { items, complete };
  }));
  return { items: mergeDlqItems(reads.map((r) => r.items), q), complete: reads.every((r) => r.complete) };
}

/**
 * A download: plans first (so an unreachable broker is a 502, not a broken
 * file), then `run` writes the entries of the stage. Up to 10,000: the newest
 * N, as the page lists them. More, or `all`: each topic streamed as it is
 * read, topic by topic, nothing held in memory; N then counts each topic's
 * newest offsets, transaction markers included. RedDB: its newest 10,000 at most.
 */
export async function planDownload(q: { limit: number | "all"; stage?: DlqStage; source?: DlqSourceKind }): Promise<(onItem: (i: DlqItem) => void, signal: AbortSignal) => Promise<void>> {
  const source = q.source ?? "kafka";
  requireSource(source);
  const keep = (i: DlqItem) => !q.stage || i.stage === q.stage;
  if (source === "reddb" || (q.limit !== "all" && q.limit <= BUFFERED_DOWNLOAD_MAX)) {
    const limit = q.limit === "all" ? BUFFERED_DOWNLOAD_MAX : Math.min(q.limit, BUFFERED_DOWNLOAD_MAX);
    if (source === "kafka") await planNewest(dlqTopics().embed, 1); // fail before the file starts when Kafka is down
    return async (onItem, signal) => (await readDlq({ limit, stage: q.stage, source }, signal)).items.forEach(onItem);
  }
  const topics = dlqTopics();
  const plans: ReadPlan[] = [];
  for (const topic of kafkaTopicsFor(q.stage, topics)) plans.push(await planNewest(topic, q.limit));
  return async (onItem, signal) => {
    for (const plan of plans) {
      await readRanges(plan, (m) => {
        const item = kafkaItem(plan.topic, m, topics);
        if (keep(item)) onItem(item);
      }, signal);
    }
  };
}

async function readReddb(limit: number, signal: AbortSignal): Promise<DlqItem[]> {
  const r = consoleConfig().reddb!;
  const topics = dlqTopics();
  const path = fillReddbPath(r.dlqPath, { ns: r.namespace, stream: r.dlqStream, limit });
  const headers: Record<string, string> = r.token ? { authorization: `Bearer ${r.token}` } : {};
  const { body } = await upstreamJson<unknown>(`${r.url}${path.startsWith("/") ? "" : "/"}${path}`, { headers, signal, timeoutMs: READ_DEADLINE_MS });
  const rows = Array.isArray(body) ? body : Array.isArray((body as { items?: unknown })?.items) ? (body as { items: unknown[] }).items : [];
  return rows.map((row) => {
    const { offset, value } = (row ?? {}) as { offset?: unknown; value?: unknown };
    const v = typeof value === "string" ? decodeJson(Buffer.from(value)) : value;
    return toDlqItem({ kind: "reddb", stream: r.dlqStream, offset: String(offset) }, v, (v as { replay_count?: unknown })?.replay_count ?? "", null, topics);
  });
}
