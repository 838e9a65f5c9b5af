import type { KnnNeighbor, KnnPartial } from "@/lib/knn/answer";
import { ApiError } from "@/lib/http/api-error";

/** What a result shows in place of its text: the snippet, or why there is none (never a blank). */
export type TextView =
  | { kind: "text"; text: string; truncated: boolean; length: number | null }
  | { kind: "missing"; reason: "not_stored" | "indexed_before"; message: string };

/**
 * A neighbour's text as a result shows it. `text_stored: false` has two
 * causes, told apart by the length: a record without text (EMBED_STORE_TEXT=0)
 * still carries its length; a row indexed before texts were kept has none.
 */
export function textView(n: Pick<KnnNeighbor, "text" | "text_truncated" | "text_len" | "text_stored">): TextView {
  if (n.text_stored && n.text !== null) return { kind: "text", text: n.text, truncated: n.text_truncated, length: n.text_len };
  if (n.text_len !== null) return { kind: "missing", reason: "not_stored", message: `text not stored (EMBED_STORE_TEXT=0) · ${n.text_len.toLocaleString("en-US")} characters` };
  return { kind: "missing", reason: "indexed_before", message: "indexed before texts were kept (rebuild the index to see texts)" };
}

/** How long ago `sec` (epoch seconds) was, from `nowMs`: `just now`, `42 s ago`, `5 min ago`, `3 h ago`, `2 d ago`. */
export function timeAgo(sec: number, nowMs: number): string {
  const s = Math.round(nowMs / 1000 - sec);
  if (s < 5) return s < -5 ? "in the future" : "just now";
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** The absolute time of an epoch-seconds timestamp, for the tooltip: ISO 8601 in UTC. */
export const absoluteTime = (sec: number) => new Date(sec * 1000).toISOString().replace(".000Z", "Z");

/** A failed search as the page explains it: what happened and what to do. */
export interface SearchErrorView {
  title: string;
  message: string;
  /** What to do, with a page to go to when there is one. */
  hint?: { text: string; href?: string };
}

export function searchErrorView(error: Error): SearchErrorView {
  const status = error instanceof ApiError ? error.status : undefined;
  const code = error instanceof ApiError ? error.code : undefined;
  if (code === "upstream_unreachable" || code === "upstream_failed" || status === 502 || status === 503 || status === 504) {
    return { title: "The indexer did not answer", message: error.message, hint: { text: "check emb-indexer on the Health page", href: "/health" } };
  }
  if (status === 409) return { title: "The query does not fit this index", message: error.message, hint: { text: "the index holds another model's vectors: query it with that model, or by doc_id" } };
  if (code === "unknown_doc_id") return { title: "No such document", message: error.message, hint: { text: "it may not be indexed yet, or was evicted (EMB_SHARD_MAX_IDS); the Shards page lists documents held", href: "/shards" } };
  if (status === 429) return { title: "The indexer is busy", message: error.message, hint: { text: "too many exact searches at once: try again in a moment, or leave exact off" } };
  if (status !== undefined && status >= 400 && status < 500) return { title: "The query was refused", message: error.message, hint: { text: "correct the query and search again" } };
  return { title: "Search failed", message: error.message, hint: { text: "try again; if it persists, check the Health page", href: "/health" } };
}

/** What an answer without neighbours says, from the index's size (null: unknown). */
export function emptyMessage(totalIds: number | null | undefined, filtered: boolean): string {
  if (totalIds === 0) return "No neighbours: the index holds no vectors yet. Send texts (Ingest page) and wait for them to be embedded and indexed.";
  const held = totalIds === null || totalIds === undefined ? "" : `the index holds ${totalIds.toLocaleString("en-US")} vectors; `;
  const tryThis = filtered ? "try without the topic, model or shard filters" : "try another query, or a larger k";
  return `No neighbours: ${held}${tryThis}.`;
}

/** What a partial answer's notice says: why some partitions were not searched (or counted: the Shards page), which, and what to do. */
export function partialView(partial: KnnPartial, what: "results" | "counts" = "results"): SearchErrorView {
  const missing = `${what} may be missing documents`;
  const titles: Record<KnnPartial["reason"], string> = {
    timeout: `An indexer did not answer in time: ${missing}`,
    failed: `An indexer failed: ${missing}`,
    unassigned: `Some partitions have no indexer right now: ${missing}`,
    loading: `Some partitions are still loading: ${missing}`,
  };
  const hints: Record<KnnPartial["reason"], string> = {
    timeout: "search again; if it persists, check the indexers on the Health page",
    failed: "search again; its partitions move to another indexer once the group notices (INDEXER_SESSION_TIMEOUT_SEC)",
    unassigned: "the indexer group is rebalancing: search again in a few seconds",
    loading: "the indexer is rebuilding them from the topic: search again when it is done",
  };
  return { title: titles[partial.reason], message: partial.message, hint: { text: hints[partial.reason], href: partial.reason === "timeout" || partial.reason === "failed" ? "/health" : "/shards" } };
}
