import { z } from "zod";

/** A vector as it may be emitted: never empty, every component a finite number. */
export const vectorSchema = z
  .array(z.number().refine(Number.isFinite, "vector components must be finite numbers"))
  .min(1, "a vector is never empty");

const common = {
  topic: z.string().nullable(),
  doc_id: z.string().min(1),
  vector: vectorSchema,
  /** Source Kafka timestamp, epoch seconds. */
  kafka_ts: z.number().nonnegative().nullable(),
  /** When the vector was made, epoch seconds. */
  embedded_ts: z.number().nonnegative(),
  model: z.string().min(1),
  dim: z.number().int().positive(),
  /** True when the vector was scaled to unit length (EMBED_NORMALIZE=1). */
  normalized: z.boolean(),
};

/** The record as written by default (EMBED_STORE_TEXT=1): the raw text, never empty. */
export const embeddingRecordWithTextSchema = z.object({ ...common, text: z.string().min(1) });

/**
 * The privacy form (EMBED_STORE_TEXT=0, seed 004's PII minimisation): no `text`,
 * instead the SHA-256 of its UTF-8 bytes (64 lowercase hex digits) and its
 * length in Unicode code points.
 */
export const embeddingRecordWithoutTextSchema = z.object({
  ...common,
  text: z.never().optional(),
  text_sha256: z.string().regex(/^[0-9a-f]{64}$/, "text_sha256 must be 64 lowercase hex digits"),
  text_len: z.number().int().positive(),
});

/**
 * The emitted embedding record (Kafka `embeddings`, Parquet, RedDB), in either
 * form. A vector that is empty, partial (dim ≠ length) or not finite is never
 * emitted: that input goes to the DLQ instead.
 */
export const embeddingRecordSchema = z
  .union([embeddingRecordWithTextSchema, embeddingRecordWithoutTextSchema])
  .refine((r) => r.dim === r.vector.length, { message: "dim must equal the vector's length", path: ["dim"] });

export type EmbeddingRecord = z.infer<typeof embeddingRecordSchema>;

/** The record's JSON with keys in the contract's order (the text, or its hash and length, second). */
export function serializeEmbeddingRecord(r: EmbeddingRecord): string {
  const text = "text_sha256" in r ? { text_sha256: r.text_sha256, text_len: r.text_len } : { text: r.text };
  return JSON.stringify({
    topic: r.topic,
    ...text,
    doc_id: r.doc_id,
    vector: r.vector,
    kafka_ts: r.kafka_ts,
    embedded_ts: r.embedded_ts,
    model: r.model,
    dim: r.dim,
    normalized: r.normalized,
  });
}
