import type { DlqReason } from "./dlq-record";
import { decodeValue, readValue } from "./decode-value";
import { deriveDocId } from "./derive-doc-id";
import type { EmbeddingInput } from "./embedding-input";
import { extractText, isBlankText } from "./extract-text";
import { kafkaTimestampToSeconds } from "./kafka-timestamp";
import { isWellFormedUnicode } from "./well-formed";

export type ParseResult =
  | { ok: true; record: EmbeddingInput }
  | { ok: false; reason: Extract<DlqReason, "invalid_unicode" | "empty_text" | "text_too_large">; error: string };

export interface ParseOptions {
  /** Largest text accepted, in UTF-8 bytes; longer text fails as `text_too_large`. */
  maxTextBytes: number;
}

/**
 * One raw message from `agent.results` → an `embedding_input` record, or the
 * reason it goes to the DLQ. The Spark job implements the same rules; shared
 * cases live in tests/vectors/parse-cases.json. The rules, in the order they
 * are checked:
 *
 *  1. No value (null: a tombstone) → `empty_text`.
 *  2. Bytes are decoded as strict UTF-8 (a BOM is kept, not stripped); invalid
 *     UTF-8 → `invalid_unicode`. See decode-value.ts.
 *  3. Only a JSON object is read as fields; anything else (non-JSON, array,
 *     string/number/bool/null literal) is raw text, verbatim. See decode-value.ts.
 *  4. Text: the first top-level `text`, `message`, `content`, `prompt`, `body`
 *     holding a string, else the raw value. Never trimmed. See extract-text.ts.
 *     Text with a lone surrogate (from a JSON `\ud800` escape) → `invalid_unicode`.
 *  5. Empty or whitespace-only text → `empty_text`; text over
 *     `maxTextBytes` UTF-8 bytes → `text_too_large` (exactly the limit is fine).
 *  6. doc_id: first usable `doc_id`, `id`, `document_id`, `key` (non-empty
 *     string verbatim, number as written), else sha256(text) hex. A string id
 *     with a lone surrogate → `invalid_unicode`. See derive-doc-id.ts.
 *  7. kafka_ts: timestamp ms → seconds, null when absent or negative. See
 *     kafka-timestamp.ts. `topic` is passed through.
 *
 * Porting to Python (the Spark job) — what makes the two agree byte for byte:
 *  - decode with `value.decode("utf-8")` (strict, BOM kept; not "utf-8-sig");
 *  - parse with `json.loads(raw, parse_int=N, parse_float=N, parse_constant=reject)`
 *    where N keeps the literal text (e.g. a `str` subclass): gives numeric ids
 *    as written, and rejects NaN/Infinity as JSON.parse does; any ValueError or
 *    RecursionError means "not JSON" (raw). JSON.parse has no depth limit, so
 *    raise sys.setrecursionlimit for inputs nested beyond ~900 levels;
 *  - a text field counts only if it is a real `str` (not the number marker);
 *  - whitespace is WHITESPACE_CLASS in extract-text.ts, not str.isspace/strip;
 *  - lone surrogates: `s.encode("utf-8")` raising UnicodeEncodeError;
 *  - kafka_ts: `ms / 1000`, written without ".0" when integral; never through
 *    Spark's to_json on a double (it writes 1.700000000123E9);
 *  - output: `json.dumps(rec, ensure_ascii=False, separators=(",", ":"))` with
 *    keys text, topic, kafka_ts, doc_id.
 */
export function parseRawMessage(
  value: Buffer | Uint8Array | string | null | undefined,
  topic: string,
  timestampMs: string | number | null | undefined,
  { maxTextBytes }: ParseOptions,
): ParseResult {
  if (value === null || value === undefined) {
    return { ok: false, reason: "empty_text", error: "message has no value (tombstone)" };
  }
  const raw = decodeValue(value);
  if (raw === null) return { ok: false, reason: "invalid_unicode", error: "message value is not valid UTF-8" };

  const read = readValue(raw);
  const text = extractText(read);
  if (!isWellFormedUnicode(text)) {
    return { ok: false, reason: "invalid_unicode", error: "text contains a lone UTF-16 surrogate" };
  }
  if (isBlankText(text)) return { ok: false, reason: "empty_text", error: "text is empty or whitespace only" };
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > maxTextBytes) {
    return { ok: false, reason: "text_too_large", error: `text is ${bytes} UTF-8 bytes, over the limit of ${maxTextBytes}` };
  }

  const docId = deriveDocId(read, text);
  if (!isWellFormedUnicode(docId)) {
    return { ok: false, reason: "invalid_unicode", error: "doc_id contains a lone UTF-16 surrogate" };
  }
  return { ok: true, record: { text, topic, kafka_ts: kafkaTimestampToSeconds(timestampMs), doc_id: docId } };
}
