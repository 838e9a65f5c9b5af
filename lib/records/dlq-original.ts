import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import type { DlqBytes, DlqOriginal } from "./dlq-record";

/** A message as it was read (kafkajs' KafkaMessage has this shape). */
export interface RawMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

/**
 * Longest Kafka key a DLQ record is written with. A hostile source key can be
 * as large as the message limit; the whole key is still kept, as bytes, in
 * `original.key`.
 */
export const DLQ_KEY_MAX_BYTES = 1024;

/** The key to write a DLQ record under: the given key when it is short, else none (it stays in `original`). */
export function dlqKey(key: Buffer | string | null | undefined): Buffer | string | null {
  if (key === null || key === undefined) return null;
  return Buffer.byteLength(key) <= DLQ_KEY_MAX_BYTES ? key : null;
}

export interface OriginalOptions {
  /** Keep at most this many bytes of each key, value and header value (a prefix, base64). */
  prefixBytes?: number;
  /** Keep the value's size and sha256 only (EMBED_STORE_TEXT=0: no text in any sink). */
  withholdValue?: boolean;
}

/** Bytes as the DLQ keeps them: whole UTF-8 text when it is, otherwise base64; a prefix past `prefixBytes`. */
export function dlqBytes(bytes: Buffer, { prefixBytes = Number.POSITIVE_INFINITY, withhold = false } = {}): DlqBytes {
  const base = { size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
  if (withhold) return { data: null, encoding: "utf8", ...base, truncated: false };
  if (bytes.length > prefixBytes) {
    // A byte prefix may end inside a UTF-8 sequence: base64 keeps it exact.
    return { data: bytes.subarray(0, Math.max(0, Math.floor(prefixBytes))).toString("base64"), encoding: "base64", ...base, truncated: true };
  }
  return isUtf8(bytes) ? { data: bytes.toString("utf8"), encoding: "utf8", ...base, truncated: false } : { data: bytes.toString("base64"), encoding: "base64", ...base, truncated: false };
}

/** The original message: key, value and every header (in order, repeats kept). */
export function dlqOriginal(raw: RawMessage, opts: OriginalOptions = {}): DlqOriginal {
  const toBuf = (v: Buffer | string) => (Buffer.isBuffer(v) ? v : Buffer.from(v, "utf8"));
  const prefix = { prefixBytes: opts.prefixBytes };
  const headers: DlqOriginal["headers"] = [];
  for (const [key, value] of Object.entries(raw.headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) headers.push({ key, value: v === undefined || v === null ? null : dlqBytes(toBuf(v), prefix) });
  }
  return {
    key: raw.key ? dlqBytes(raw.key, prefix) : null,
    value: raw.value ? dlqBytes(raw.value, { ...prefix, withhold: opts.withholdValue }) : null,
    headers,
  };
}

/** The bytes a DLQ entry's original holds, when it holds them whole (what a redrive re-sends); undefined when truncated or withheld. */
export function originalBytes(b: DlqBytes | null): Buffer | null | undefined {
  if (b === null) return null;
  if (b.truncated || b.data === null) return undefined;
  return Buffer.from(b.data, b.encoding);
}

/**
 * The DLQ record as JSON of at most `maxBytes` UTF-8 bytes, with the original
 * message attached. When the whole original does not fit (a message at the
 * source's size limit grows when encoded), key, value and header values are cut
 * to ever shorter prefixes; then a `text` field is dropped; then headers. The
 * record's own fields are bounded by the stage (one-line error, codes), so a
 * limit of a few KB always fits.
 */
export function serializeDlqWithOriginal<R extends { text?: string | null }>(record: R, raw: RawMessage, maxBytes: number, opts: { withholdValue?: boolean } = {}): string {
  const attempt = (prefixBytes: number, dropText: boolean, dropHeaders: boolean) => {
    const original = dlqOriginal(dropHeaders ? { ...raw, headers: {} } : raw, { prefixBytes, withholdValue: opts.withholdValue });
    const body = dropText && "text" in record ? { ...record, text: null } : record;
    return JSON.stringify({ ...body, original });
  };
  let json = attempt(Number.POSITIVE_INFINITY, false, false);
  if (Buffer.byteLength(json) <= maxBytes) return json;
  // base64 is 4/3 of the bytes; start from what could fit and halve.
  for (let prefix = Math.floor((maxBytes * 3) / 8); prefix >= 1; prefix = Math.floor(prefix / 2)) {
    json = attempt(prefix, false, false);
    if (Buffer.byteLength(json) <= maxBytes) return json;
  }
  for (const [dropText, dropHeaders] of [[true, false], [true, true]] as const) {
    json = attempt(0, dropText, dropHeaders);
    if (Buffer.byteLength(json) <= maxBytes) return json;
  }
  throw new Error(`a DLQ record does not fit in ${maxBytes} bytes even without the original message`);
}
