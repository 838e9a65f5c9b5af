import { dlqRecordSchema, type DlqRecord } from "@/lib/records/dlq-record";

/** Header a redrive sets on the record it sends back: how often this record has been redriven. */
export const REPLAY_HEADER = "x-embedline-replay-count";
export const REDRIVEN_FROM_HEADER = "x-embedline-redriven-from";

/** One DLQ entry as the console shows it: where it sits in the DLQ, and the record. No client trusts it for redrive. */
export interface DlqItem {
  /** `kafka:<partition>:<offset>` or `reddb:<offset>`: stable, used to select entries for redrive. */
  id: string;
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
  replay_count: number;
  /** The record exactly as stored, for the payload view. */
  raw: unknown;
}

export function toDlqItem(id: string, value: unknown, replayCount: number, fallbackTs: number | null): DlqItem {
  const parsed = dlqRecordSchema.safeParse(value);
  if (parsed.success) {
    const r = parsed.data;
    return { id, ts: r.ts, reason: r.reason, error: r.error, attempts: r.attempts, model: r.model, doc_id: r.doc_id, topic: r.topic, kafka_ts: r.kafka_ts, text: r.text, source: r.source, replay_count: replayCount, raw: value };
  }
  // Not our schema (an older or foreign writer): shown as is, never redriven.
  const o = (value && typeof value === "object" ? value : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  return { id, ts: typeof o.ts === "number" ? o.ts : fallbackTs, reason: str(o.reason) ?? "unknown", error: str(o.error), attempts: null, model: str(o.model), doc_id: str(o.doc_id), topic: str(o.topic), kafka_ts: null, text: str(o.text), source: null, replay_count: replayCount, raw: value };
}

export function parseReplayCount(value: unknown): number {
  const s = Buffer.isBuffer(value) ? value.toString("utf8") : typeof value === "string" ? value : Array.isArray(value) ? String(value[0] ?? "") : "";
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
