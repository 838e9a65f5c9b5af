import { z } from "zod";
import { vectorSchema } from "./embedding-record";

/**
 * What the emb-indexer stores per document (and mirrors to REDDB_INDEX_STREAM).
 * `norm` is the L2 norm of `vector`, kept so cosine scoring divides once;
 * `unit` says the vector is unit length (the embedding record's `normalized`).
 */
export const indexRecordSchema = z.object({
  doc_id: z.string().min(1),
  vector: vectorSchema,
  norm: z.number().nonnegative().refine(Number.isFinite, "norm must be finite"),
  unit: z.boolean(),
  topic: z.string().nullable(),
  kafka_ts: z.number().nonnegative().nullable(),
  embedded_ts: z.number().nonnegative(),
  model: z.string().min(1),
});

export type IndexRecord = z.infer<typeof indexRecordSchema>;
