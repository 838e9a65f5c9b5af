import type { IHeaders } from "kafkajs";
import type { ReadMessage } from "@/lib/upstreams/kafka";
import type { CatalogTopic } from "./catalog";
import type { MessageLink, ShownBytes, TopicMessage, VectorSummary } from "./types";

/**
 * A Kafka record as the topic browser shows it: bytes as UTF-8 text when they
 * are, base64 otherwise; a JSON value parsed (vectors summarised); links to
 * the records it came from or led to. Pure: the routes and the tests use it.
 */

/** Values up to this are shown (and parsed) whole on a page; longer ones as a prefix, whole on demand (`full=1`) or in the export. */
export const VALUE_PREVIEW_BYTES = 64 * 1024;
/** A numeric array this long or longer is a vector: summarised unless asked for whole (a 16-number array is no one's text). */
export const VECTOR_MIN_DIMS = 16;
/** Values of a vector shown in its summary. */
const VECTOR_HEAD = 8;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** `bytes` as text when valid UTF-8, else base64; at most `maxBytes` of it (a UTF-8 prefix never splits a character). */
export function showBytes(bytes: Buffer, maxBytes = Infinity): ShownBytes {
  const truncated = bytes.length > maxBytes;
  const shown = truncated ? bytes.subarray(0, maxBytes) : bytes;
  try {
    return { encoding: "utf8", data: utf8.decode(shown), size: bytes.length, truncated };
  } catch {
    if (truncated) {
      // A prefix may end inside a character: drop up to three continuation bytes and try again.
      for (let cut = 1; cut <= 3; cut++) {
        try {
          return { encoding: "utf8", data: utf8.decode(shown.subarray(0, shown.length - cut)), size: bytes.length, truncated };
        } catch {
          // not there yet
        }
      }
    }
    return { encoding: "base64", data: shown.toString("base64"), size: bytes.length, truncated };
  }
}

/** Kafka headers as a list (a repeated header is one entry per value, in order). */
export function headerList(headers: IHeaders, maxBytes = Infinity): { key: string; value: ShownBytes | null }[] {
  return Object.entries(headers).flatMap(([key, v]) =>
    (Array.isArray(v) ? v : [v]).map((one) => ({ key, value: one === undefined || one === null ? null : showBytes(Buffer.isBuffer(one) ? one : Buffer.from(String(one)), maxBytes) })),
  );
}

export function summariseVector(values: number[]): VectorSummary {
  return { dim: values.length, norm: Math.sqrt(values.reduce((s, x) => s + x * x, 0)), head: values.slice(0, VECTOR_HEAD) };
}

const isVector = (v: unknown): v is number[] => Array.isArray(v) && v.length >= VECTOR_MIN_DIMS && v.every((x) => typeof x === "number");

/** `json` with every vector replaced by `{"$vector": summary}`. */
export function summariseVectors(json: unknown): unknown {
  if (isVector(json)) return { $vector: summariseVector(json) };
  if (Array.isArray(json)) return json.map(summariseVectors);
  if (json && typeof json === "object") return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, summariseVectors(v)]));
  return json;
}

/** The topics links lead to, by role (from the console's configuration). */
export interface LinkTargets {
  embedInput: string;
  embeddings: string;
  /** Topics the browser shows: a link into any other would only be refused. */
  browsable: Set<string>;
}

const q = (params: Record<string, string | number | undefined>) =>
  new URLSearchParams(Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined).map(([k, v]) => [k, String(v)])).toString();
const topicHref = (topic: string, params: Record<string, string | number | undefined>) => `/topics/${encodeURIComponent(topic)}?${q(params)}`;
/** A Kafka timestamp kept as epoch seconds (kafka_ts), as the epoch milliseconds the browser's `timestamp` takes. */
const msOf = (seconds: unknown) => (typeof seconds === "number" && Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : undefined);

/**
 * Links from a record to its neighbours in the pipeline: an embedding to its
 * `embedding_input` record (same doc_id, written at or after the raw
 * message's time) and to its nearest neighbours; an `embedding_input` record
 * to its embedding and its raw message; a DLQ entry to the record it was made from.
 */
export function linksOf(topic: CatalogTopic, json: unknown, to: LinkTargets): MessageLink[] {
  if (!json || typeof json !== "object" || Array.isArray(json)) return [];
  const r = json as Record<string, unknown>;
  const docId = typeof r.doc_id === "string" && r.doc_id.length > 0 ? r.doc_id : undefined;
  const links: MessageLink[] = [];
  if (topic.role === "embeddings" && docId) {
    if (to.browsable.has(to.embedInput)) links.push({ rel: "source", label: `source on ${to.embedInput}`, href: topicHref(to.embedInput, { key: docId, timestamp: msOf(r.kafka_ts) }) });
    links.push({ rel: "similar", label: "more like this", href: `/search?${q({ doc_id: docId })}` });
  }
  if (topic.role === "embedding_input" && docId) {
    if (to.browsable.has(to.embeddings)) links.push({ rel: "embedding", label: `embedding on ${to.embeddings}`, href: topicHref(to.embeddings, { key: docId, timestamp: msOf(r.kafka_ts) }) });
    if (typeof r.topic === "string" && to.browsable.has(r.topic)) links.push({ rel: "source", label: `raw message on ${r.topic}`, href: topicHref(r.topic, { timestamp: msOf(r.kafka_ts), limit: 1 }) });
  }
  if (topic.role === "parse_dlq" || topic.role === "embed_dlq") {
    const s = r.source as { topic?: unknown; partition?: unknown; offset?: unknown } | undefined;
    if (s && typeof s.topic === "string" && to.browsable.has(s.topic) && Number.isInteger(s.partition) && typeof s.offset === "string" && /^\d+$/.test(s.offset)) {
      links.push({ rel: "original", label: `original on ${s.topic}`, href: topicHref(s.topic, { partition: s.partition as number, offset: s.offset, limit: 1 }) });
    }
  }
  return links;
}

/**
 * A record for a page. A value that fits the preview (or `full`) and is JSON
 * comes as `json` (vectors summarised unless `vectors: "full"`) with `data`
 * null unless `full`: the parsed form carries it; otherwise as text or base64.
 */
export function presentRecord(r: ReadMessage, topic: CatalogTopic, to: LinkTargets, opts: { vectors: "summary" | "full"; full: boolean }): TopicMessage {
  const max = opts.full ? Infinity : VALUE_PREVIEW_BYTES;
  const value = r.value === null ? null : showBytes(r.value, max);
  let json: unknown;
  if (value && value.encoding === "utf8" && !value.truncated) {
    try {
      json = JSON.parse(value.data as string);
    } catch {
      json = undefined;
    }
  }
  const message: TopicMessage = {
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key === null ? null : showBytes(r.key, max),
    headers: headerList(r.headers, max),
    value: value && json !== undefined && !opts.full ? { ...value, data: null } : value,
    links: json === undefined ? [] : linksOf(topic, json, to),
  };
  if (json !== undefined) message.json = opts.vectors === "full" ? json : summariseVectors(json);
  return message;
}
