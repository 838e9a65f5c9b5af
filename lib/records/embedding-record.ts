import { z } from "zod";

/** A vector as it may be emitted: never empty, every component a finite number. */
export const vectorSchema = z
  .array(z.number().refine(Number.isFinite, "vector components must be finite numbers"))
  .min(1, "a vector is never empty");

/**
 * The emitted embedding record (Kafka `embeddings`, Parquet, RedDB). A vector
 * that is empty, partial (dim ≠ length) or not finite is never emitted: that
 * input goes to the DLQ instead.
 */
export const embeddingRecordSchema = z
  .object({
    topic: z.string().nullable(),
    text: z.string().min(1),
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
  })
  .refine((r) => r.dim === r.vector.length, { message: "dim must equal the vector's length", path: ["dim"] });

export type EmbeddingRecord = z.infer<typeof embeddingRecordSchema>;

/** The record's JSON with keys in the contract's order. */
export function serializeEmbeddingRecord(r: EmbeddingRecord): string {
  return JSON.stringify({
    topic: r.topic,
    text: r.text,
    doc_id: r.doc_id,
    vector: r.vector,
    kafka_ts: r.kafka_ts,
    embedded_ts: r.embedded_ts,
    model: r.model,
    dim: r.dim,
    normalized: r.normalized,
  });
}
