import { describeZodError } from "../../lib/http/api-error";
import { toUnit } from "../../lib/index/vector";
import { decodeValue } from "../../lib/records/decode-value";
import type { DlqReason } from "../../lib/records/dlq-record";
import { embeddingRecordWithTextSchema, embeddingRecordWithoutTextSchema, type EmbeddingRecord } from "../../lib/records/embedding-record";
import { isWellFormedUnicode } from "../../lib/records/well-formed";

/** The reasons a record of the embeddings topic can never be indexed, whatever is retried. */
export type IndexRejectReason = Extract<DlqReason, "invalid_json" | "invalid_unicode" | "bad_vector">;

/** What could be read of a record that cannot be indexed; its dead letter carries it. */
export interface PartialRecord {
  text: string | null;
  topic: string | null;
  kafka_ts: number | null;
  doc_id: string | null;
  model: string | null;
}

export type DecodedRecord = { ok: true; record: EmbeddingRecord } | { ok: false; reason: IndexRejectReason; error: string; partial: PartialRecord };

const str = (v: unknown) => (typeof v === "string" && isWellFormedUnicode(v) ? v : null);
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : null);

/** Fields whose failure means the vector itself is unusable (reason `bad_vector`), not the record's shape. */
const VECTOR_FIELDS = new Set(["vector", "dim"]);

/**
 * One message of the embeddings topic → the record to index, or why it never
 * can be. The embed-worker writes well-formed records; this guards against
 * whatever else lands on the topic (a producer of its own, a redrive, a bug):
 * - no value, not JSON, not an embedding record → `invalid_json`;
 * - bytes that are not UTF-8, or a doc_id/model/topic with a lone surrogate
 *   (LMDB and the mirror would store another string than the one asked for) → `invalid_unicode`;
 * - a vector that is empty, not finite, of another length than its `dim`, or
 *   all zeros (no direction, so no cosine) → `bad_vector`.
 * A vector of another dimension than the index's is not decided here: it is a
 * valid record of another model (see VectorIndex.plan, `refused`).
 */
export function decodeEmbedding(value: Buffer | null): DecodedRecord {
  const partial: PartialRecord = { text: null, topic: null, kafka_ts: null, doc_id: null, model: null };
  const fail = (reason: IndexRejectReason, error: string): DecodedRecord => ({ ok: false, reason, error, partial });
  if (value === null) return fail("invalid_json", "message has no value (tombstone)");
  const text = decodeValue(value);
  if (text === null) return fail("invalid_unicode", "message value is not valid UTF-8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail("invalid_json", "message value is not JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return fail("invalid_json", "message value is not a JSON object");
  const fields = parsed as Record<string, unknown>;
  Object.assign(partial, { text: str(fields.text), topic: str(fields.topic), kafka_ts: num(fields.kafka_ts), doc_id: str(fields.doc_id), model: str(fields.model) });
  for (const field of ["doc_id", "model", "topic"] as const) {
    const v = fields[field];
    if (typeof v === "string" && !isWellFormedUnicode(v)) return fail("invalid_unicode", `${field} contains a lone UTF-16 surrogate`);
  }
  // The record's form (with text, or its hash) is chosen by `text`, so a failure names the field at fault.
  const schema = fields.text !== undefined ? embeddingRecordWithTextSchema : embeddingRecordWithoutTextSchema;
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const onVector = result.error.issues.every((i) => VECTOR_FIELDS.has(String(i.path[0])));
    return fail(onVector ? "bad_vector" : "invalid_json", `not an embedding record: ${describeZodError(result.error)}`.slice(0, 300));
  }
  const record = result.data as EmbeddingRecord;
  if (record.dim !== record.vector.length) return fail("bad_vector", `dim is ${record.dim} but the vector has ${record.vector.length} components`);
  if (!toUnit(record.vector)) return fail("bad_vector", "the vector has no direction (all zeros, or its norm overflows): cosine similarity is undefined for it");
  return { ok: true, record };
}
