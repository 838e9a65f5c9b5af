/**
 * Limits of POST /api/ingest, as plain numbers so the form (client code) can say
 * them without pulling in the schema. The route and its schema enforce them.
 */

/**
 * Most bytes of one request body. A paste or a file from the form, not a bulk
 * loader (producers write to Kafka directly). Below Next's 10 MB
 * `proxyClientMaxBodySize` (see BodyLimit in lib/http/api-error.ts).
 */
export const INGEST_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Longest text, and longest JSONL record, in UTF-8 bytes: EMBED_MAX_TEXT_BYTES'
 * default, past which the embed-worker dead-letters a text as `text_too_large`;
 * refusing it here tells the operator at once instead of through the DLQ, and
 * keeps every Kafka record far under the broker's 1 MB message limit.
 */
export const INGEST_MAX_TEXT_BYTES = 64 * 1024;

/**
 * Largest JSONL upload, in UTF-8 bytes. The file travels inside the JSON body,
 * where each quote and newline takes two bytes, so the body cap is usually the
 * one a file meets first.
 */
export const INGEST_MAX_JSONL_BYTES = 8 * 1024 * 1024;

/** Most records one request sends: texts pasted, or lines of a JSONL file. */
export const MAX_INGEST_RECORDS = 10_000;

/** UTF-8 length of `s` without encoding it (a lone surrogate counts as U+FFFD's 3 bytes, as TextEncoder writes it). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
