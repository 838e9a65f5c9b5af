import { sameModel } from "../../lib/embedding/model-identity";
import { describeZodError } from "../../lib/http/api-error";
import { toUnit } from "../../lib/index/vector";
import { decodeValue } from "../../lib/records/decode-value";
import type { DlqReason } from "../../lib/records/dlq-record";
import { embeddingRecordWithTextSchema, embeddingRecordWithoutTextSchema, type EmbeddingRecord } from "../../lib/records/embedding-record";
import { isWellFormedUnicode } from "../../lib/records/well-formed";

/** The reasons a record of the embeddings topic can never be indexed, whatever is retried. */
export type IndexRejectReason = Extract<DlqReason, "invalid_json" | "invalid_unicode" | "bad_vector" | "model_mismatch">;

/**
 * What the index takes: vectors of one model (by registry equivalence: a short
 * name and the full id are one model) and one dimension (undefined until the
 * first record of an empty index whose model the registry does not know).
 */
export interface IndexHolds {
  model: string;
  dim: number | undefined;
}

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
 * - with `holds`: a record of another model than the index holds, or with
 *   vectors of another dimension → `model_mismatch`. Vectors of two models are
 *   not comparable even at one dimension (MiniLM and bge are both 384-dim), so
 *   the model is checked, not only the dimension.
 */
export function decodeEmbedding(value: Buffer | null, holds?: IndexHolds): DecodedRecord {
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
  const mismatch = holds && modelMismatch(record, holds);
  if (mismatch) return fail("model_mismatch", mismatch);
  return { ok: true, record };
}

/** Why a valid embedding record does not belong in an index holding `holds`, or null when it does. */
export function modelMismatch(record: Pick<EmbeddingRecord, "model" | "dim">, holds: IndexHolds): string | null {
  const held = `${holds.model}${holds.dim === undefined ? "" : ` (${holds.dim} dims)`}`;
  const fix = "index that model with an indexer of its own (another INDEX_DIR and INDEXER_GROUP, EMBED_MODEL set to it)";
  if (!sameModel(record.model, holds.model)) return `the record's vector is of model ${record.model} (${record.dim} dims) but the index holds vectors of ${held}; vectors of two models are not comparable: ${fix}`;
  if (holds.dim !== undefined && record.dim !== holds.dim) return `the record's vector has ${record.dim} dimensions but the index holds ${held}: ${fix}`;
  return null;
}
