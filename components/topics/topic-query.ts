/**
 * The topic page's query, as its URL carries it (`?partition=&offset=&timestamp=&key=&limit=`)
 * and as the messages API takes it. Values stay the strings they were typed
 * or linked as: the API checks them and says what is valid (a 422 shown on
 * the page), so the page never silently corrects `partition=999` into another read.
 */

export type Position = "newest" | "offset" | "timestamp" | "cursor";

export interface MessagesQuery {
  /** "" reads every partition. */
  partition: string;
  position: Position;
  /** Used in `offset` position only. */
  offset: string;
  /** ISO 8601 or epoch milliseconds; used in `timestamp` position only. */
  timestamp: string;
  /** Where a previous page stopped (`0:120,1:98`, an answer's `next`); used in `cursor` position only. */
  cursor: string;
  /** Exact key (a doc_id); "" for every record. */
  key: string;
  limit: string;
}

/** The API's default and bound for one page (lib/topics). */
export const DEFAULT_LIMIT = "50";
export const MAX_LIMIT = 500;
/** `full=1` (values whole) is refused above this limit. */
export const FULL_MAX_LIMIT = 10;

interface ParamsLike {
  get(name: string): string | null;
}

/**
 * The query a URL asks for. The API takes at most one of offset, timestamp and
 * cursor; a URL with more keeps the first of them (in that order), none is newest.
 */
export function queryFromParams(p: ParamsLike): MessagesQuery {
  const offset = p.get("offset") ?? "";
  const timestamp = p.get("timestamp") ?? "";
  const cursor = p.get("cursor") ?? "";
  const position: Position = offset !== "" ? "offset" : timestamp !== "" ? "timestamp" : cursor !== "" ? "cursor" : "newest";
  return { partition: p.get("partition") ?? "", position, offset, timestamp, cursor, key: p.get("key") ?? "", limit: p.get("limit") || DEFAULT_LIMIT };
}

/** Extra parameters of a read of one record: vectors whole, values whole. */
export interface ReadExtras {
  vectors?: boolean;
  full?: boolean;
}

/** The query string of a query: the page's URL, the messages API and the export share it. */
export function messagesParams(q: MessagesQuery, extras: ReadExtras = {}): URLSearchParams {
  const p = new URLSearchParams();
  // A cursor names its own partitions: the API refuses a partition beside it.
  if (q.partition !== "" && q.position !== "cursor") p.set("partition", q.partition);
  if (q.position === "offset") p.set("offset", q.offset);
  if (q.position === "timestamp") p.set("timestamp", q.timestamp);
  if (q.position === "cursor") p.set("cursor", q.cursor);
  if (q.key !== "") p.set("key", q.key);
  p.set("limit", q.limit || DEFAULT_LIMIT);
  if (extras.vectors) p.set("vectors", "full");
  if (extras.full) p.set("full", "1");
  return p;
}

const topicPath = (name: string) => `/api/topics/${encodeURIComponent(name)}`;

export function messagesUrl(name: string, q: MessagesQuery, extras: ReadExtras = {}): string {
  return `${topicPath(name)}/messages?${messagesParams(q, extras)}&unavailable=200`;
}

/** The server-side export of the same read with a larger limit (a number or `all`). */
export function exportHref(name: string, q: MessagesQuery, limit: string): string {
  const p = messagesParams(q);
  p.set("limit", limit.trim() || DEFAULT_LIMIT);
  return `${topicPath(name)}/export?${p}`;
}

/** One record again, by its position: for "full vector" and "load whole value". */
export function recordQuery(partition: number, offset: string): MessagesQuery {
  return { partition: String(partition), position: "offset", offset, timestamp: "", cursor: "", key: "", limit: "1" };
}

/** The read that continues where a page stopped: its answer's `next`, every partition it read. */
export function nextPageQuery(q: MessagesQuery, next: string): MessagesQuery {
  return { ...q, partition: "", position: "cursor", offset: "", timestamp: "", cursor: next };
}

/** A URL timestamp (ISO 8601 or epoch ms) as a `datetime-local` value in UTC (`2026-12-02T08:00:00`); "" when it is not a time. */
export function toDateTimeLocal(raw: string): string {
  const t = raw.trim();
  if (t === "") return "";
  const d = new Date(/^\d+$/.test(t) ? Number(t) : t);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString().slice(0, 19);
}

/** A `datetime-local` value, read as UTC, as the API's ISO form (`2026-12-02T08:00:00Z`). */
export function fromDateTimeLocal(value: string): string {
  if (value === "") return "";
  const withSeconds = /T\d{2}:\d{2}$/.test(value) ? `${value}:00` : value;
  return `${withSeconds}Z`;
}
