import { originalBytes } from "@/lib/records/dlq-original";
import { dlqOriginalSchema, dlqRecordSchema, type DlqBytes, type DlqOriginal, type DlqRecord, type DlqStage } from "@/lib/records/dlq-record";

/** Header a redrive sets on the record it sends back: how often this record has been redriven. */
export const REPLAY_HEADER = "x-embedline-replay-count";
/** Header a redrive sets on the record it sends back: the id of the DLQ entry it came from. */
export const REDRIVEN_FROM_HEADER = "x-embedline-redriven-from";

/**
 * The topics that decide an entry's stage when the record does not say it
 * (entries written before `stage` existed): PARSE_DLQ_TOPIC holds the parse
 * stage's; EMBED_DLQ_TOPIC the embed-worker's, and the indexer's (source topic
 * EMBED_OUTPUT_TOPIC); RedDB's stream is written by the embed-worker.
 */
export interface DlqTopics {
  parse: string;
  embed: string;
  /** EMBED_OUTPUT_TOPIC: the source topic of index-stage entries. */
  embeddings: string;
}

/** Where an entry sits: a Kafka DLQ topic's partition and offset, or a RedDB stream's offset. */
export type DlqLocation = { kind: "kafka"; topic: string; partition: number; offset: string } | { kind: "reddb"; stream: string; offset: string };

/** Some bytes of the original as the list shows them: `clipped` when the list cut `data` (the download has it whole). */
export type ShownBytes = DlqBytes & { clipped?: true };
export interface ShownOriginal {
  key: ShownBytes | null;
  value: ShownBytes | null;
  headers: { key: string; value: ShownBytes | null }[];
}

/** One DLQ entry as the console shows it: where it sits, its stage, the record and its original message. No client trusts it for redrive. */
export interface DlqItem {
  /** `kafka:<topic>:<partition>:<offset>` or `reddb:<stream>:<offset>`: unique across DLQs and stable; selects entries for redrive. */
  id: string;
  /** The DLQ it sits in: the Kafka topic, or `reddb:<stream>`. */
  dlq: string;
  /** The record's `stage`, or inferred from the DLQ and source topic (`stage_inferred`); null when neither tells. */
  stage: DlqStage | null;
  stage_inferred: boolean;
  /** When it was dead-lettered, epoch seconds. */
  ts: number | null;
  reason: string;
  error: string | null;
  attempts: number | null;
  model: string | null;
  doc_id: string | null;
  topic: string | null;
  kafka_ts: number | null;
  text: string | null;
  source: DlqRecord["source"] | null;
  /** The message as it arrived at the stage (absent in entries written before originals were kept). */
  original: ShownOriginal | null;
  replay_count: number;
  /** True when the entry is our DLQ record shape (only those are redriven). */
  valid: boolean;
  /** The record exactly as stored, for the payload view (the list leaves `original` out: it is shown on its own). */
  raw: unknown;
}

export function locationId(loc: DlqLocation): string {
  return loc.kind === "kafka" ? `kafka:${loc.topic}:${loc.partition}:${loc.offset}` : `reddb:${loc.stream}:${loc.offset}`;
}

export function locationDlq(loc: DlqLocation): string {
  return loc.kind === "kafka" ? loc.topic : `reddb:${loc.stream}`;
}

/**
 * An id as sent by a client, in today's form. Before both DLQs were shown, ids
 * were `kafka:<partition>:<offset>` (always EMBED_DLQ_TOPIC) and
 * `reddb:<offset>`; a client or script that kept one still selects the same entry.
 * Kafka topic names hold no `:`, so the forms cannot be confused.
 */
export function normalizeDlqId(id: string, legacy: { embedTopic: string; reddbStream?: string }): string {
  const oldKafka = /^kafka:(\d+):(\d+)$/.exec(id);
  if (oldKafka) return `kafka:${legacy.embedTopic}:${oldKafka[1]}:${oldKafka[2]}`;
  const oldReddb = /^reddb:([^:]*)$/.exec(id);
  if (oldReddb && legacy.reddbStream !== undefined) return `reddb:${legacy.reddbStream}:${oldReddb[1]}`;
  return id;
}

/** The stage an entry belongs to when its record does not say: from the DLQ it sits in and its source topic. */
export function inferStage(loc: DlqLocation, sourceTopic: string | null | undefined, topics: DlqTopics): DlqStage | null {
  if (loc.kind === "kafka" && loc.topic === topics.parse) return "parse";
  if (loc.kind === "kafka" && loc.topic !== topics.embed) return null;
  // EMBED_DLQ_TOPIC and RedDB's stream: the embed-worker's, and the indexer's (it reads EMBED_OUTPUT_TOPIC).
  return sourceTopic === topics.embeddings ? "index" : "embed";
}

/** The replay count of an entry: its DLQ message's header, or the original message's (a parse-stage DLQ record may not copy it), whichever is higher. */
function replayCount(header: unknown, original: DlqOriginal | null): number {
  const fromOriginal = original?.headers.filter((h) => h.key === REPLAY_HEADER).map((h) => {
    const b = h.value ? originalBytes(h.value) : undefined;
    return b ? parseReplayCount(b) : 0;
  }) ?? [];
  return Math.max(parseReplayCount(header), ...fromOriginal);
}

export function toDlqItem(loc: DlqLocation, value: unknown, replayHeader: unknown, fallbackTs: number | null, topics: DlqTopics): DlqItem {
  const where = { id: locationId(loc), dlq: locationDlq(loc) };
  const parsed = dlqRecordSchema.safeParse(value);
  if (parsed.success) {
    const r = parsed.data;
    const original = r.original ?? null;
    const inferred = inferStage(loc, r.source.topic, topics);
    return {
      ...where, stage: r.stage ?? inferred, stage_inferred: !r.stage, ts: r.ts, reason: r.reason, error: r.error, attempts: r.attempts, model: r.model, doc_id: r.doc_id, topic: r.topic, kafka_ts: r.kafka_ts, text: r.text,
      source: r.source, original, replay_count: replayCount(replayHeader, original), valid: true, raw: value,
    };
  }
  // Not our schema (an older or foreign writer): shown as is, never redriven.
  const o = (value && typeof value === "object" ? value : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  const original = dlqOriginalSchema.safeParse(o.original).data ?? null;
  const sourceTopic = str((o.source as Record<string, unknown> | undefined)?.topic);
  const stage = o.stage === "parse" || o.stage === "embed" || o.stage === "index" ? o.stage : null;
  return {
    ...where, stage: stage ?? inferStage(loc, sourceTopic, topics), stage_inferred: !stage, ts: typeof o.ts === "number" ? o.ts : fallbackTs, reason: str(o.reason) ?? "unknown", error: str(o.error), attempts: null,
    model: str(o.model), doc_id: str(o.doc_id), topic: str(o.topic), kafka_ts: null, text: str(o.text), source: null, original, replay_count: replayCount(replayHeader, original), valid: false, raw: value,
  };
}

/** Longest piece of an original's key, value or header the list sends to the browser; the download and redrive use the whole. */
export const SHOWN_BYTES_MAX = 16 * 1024;

function clip(b: DlqBytes | null, max: number): ShownBytes | null {
  if (!b || b.data === null || b.data.length <= max) return b;
  // base64 is cut on a 4-character boundary so what is shown still decodes.
  const keep = b.encoding === "base64" ? max - (max % 4) : max;
  return { ...b, data: b.data.slice(0, keep), clipped: true };
}

/** The item as the list answers it: the original's long data clipped, and `raw` without the original (shown on its own). */
export function forList(item: DlqItem, max = SHOWN_BYTES_MAX): DlqItem {
  const o = item.original;
  const raw = item.raw && typeof item.raw === "object" && "original" in item.raw ? { ...(item.raw as Record<string, unknown>), original: undefined } : item.raw;
  if (!o) return { ...item, raw };
  return { ...item, raw, original: { key: clip(o.key, max), value: clip(o.value, max), headers: o.headers.map((h) => ({ key: h.key, value: clip(h.value, max) })) } };
}

export function parseReplayCount(value: unknown): number {
  const s = Buffer.isBuffer(value) ? value.toString("utf8") : typeof value === "string" ? value : typeof value === "number" ? String(value) : Array.isArray(value) ? String(value[0] ?? "") : "";
  return /^\d{1,6}$/.test(s) ? Number(s) : 0;
}

export function decodeJson(bytes: Buffer | null): unknown {
  if (!bytes) return null;
  const text = bytes.toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
