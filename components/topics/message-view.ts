import type { TopicMessage, VectorSummary } from "@/lib/topics/types";

/** Strings longer than this start folded: the first FOLD_CHARS characters and a "show all". */
export const FOLD_CHARS = 300;

/** A string as shown folded: its head, and how many characters the "show all" adds. */
export function fold(text: string, limit = FOLD_CHARS): { head: string; hidden: number } {
  // Count and cut by code points, so a fold never splits an emoji or a surrogate pair.
  const chars = Array.from(text);
  if (chars.length <= limit) return { head: text, hidden: 0 };
  return { head: chars.slice(0, limit).join(""), hidden: chars.length - limit };
}

/** `{"$vector": {dim, norm, head}}`: where the API summarised a numeric array of a value. */
export function vectorSummary(v: unknown): VectorSummary | null {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const keys = Object.keys(v);
  if (keys.length !== 1 || keys[0] !== "$vector") return null;
  const s = (v as { $vector: unknown }).$vector as Partial<VectorSummary> | null;
  if (!s || typeof s.dim !== "number" || typeof s.norm !== "number" || !Array.isArray(s.head)) return null;
  return s as VectorSummary;
}

/** A vector component short enough to read: four decimals at most (`0.0123`, `-0.5`). */
const component = (n: number) => String(Number(n.toFixed(4)));

/** `vector · 384 dims · norm 1.000 · [0.0123, -0.0201, …]` */
export function vectorLabel(s: VectorSummary): string {
  const more = s.head.length < s.dim ? ", …" : "";
  return `vector · ${s.dim.toLocaleString("en-US")} dims · norm ${s.norm.toFixed(3)} · [${s.head.map(component).join(", ")}${more}]`;
}

/** The API's VECTOR_MIN_DIMS: numeric arrays this long are what it summarises (shown whole after `vectors=full`). */
export const VECTOR_MIN_DIMS = 16;
export const isWholeVector = (v: unknown[]) => v.length >= VECTOR_MIN_DIMS && v.every((x) => typeof x === "number");

/** True for an array an operator reads on one line: numbers, strings, booleans, nulls. */
export const isFlatArray = (v: unknown[]) => v.every((x) => x === null || typeof x !== "object");

/** A Kafka timestamp (epoch ms) as ISO 8601 in UTC, milliseconds kept. */
export const isoTime = (ms: number) => (Number.isFinite(ms) && ms >= 0 ? new Date(ms).toISOString() : "—");

/** Retention as an operator says it: `7 d`, `12 h`, `30 min`, `forever` for -1, `—` when unknown. */
export function formatRetention(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "—";
  if (ms < 0) return "forever";
  const units: [number, string][] = [[86_400_000, "d"], [3_600_000, "h"], [60_000, "min"], [1_000, "s"]];
  for (const [size, unit] of units) {
    if (ms >= size) return `${Number((ms / size).toFixed(1))} ${unit}`;
  }
  return `${ms} ms`;
}

/** A record count, `≈` in front when it is the offset gap rather than a count. */
export const recordsLabel = (records: number, exact: boolean) => `${exact ? "" : "≈ "}${records.toLocaleString("en-US")}`;

/**
 * What is on screen as JSONL: one line per message, as the API answered it
 * (vectors summarised, long values as their prefix) with its topic and the
 * time in ISO beside the epoch milliseconds.
 */
export function toJsonl(topic: string, messages: readonly TopicMessage[]): string {
  return messages.map((m) => JSON.stringify({ topic, ...m, time: isoTime(m.timestamp) })).join("\n") + (messages.length ? "\n" : "");
}
