import { z } from "zod";
import { directionProblem } from "@/lib/index/vector";

const finite = z.number().refine(Number.isFinite, "must be a finite number");

/**
 * Most bytes of a POST /api/knn/query body. A query is a vector, a doc_id or a
 * text plus a few options: a 384-dim vector is about 8 KB of JSON, and 64 KiB
 * still holds about 3,000 components at full precision.
 */
export const KNN_QUERY_MAX_BYTES = 64 * 1024;

/** A vector the index can compare by cosine (directionProblem: the indexer refuses the same ones). */
const searchableVector = z
  .array(finite)
  .min(1)
  .max(8192)
  .superRefine((v, ctx) => {
    const problem = directionProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** Body of POST /api/knn/query (the indexer's contract, issue 6): exactly one of vector, doc_id, text. */
export const knnQuerySchema = z
  .object({
    vector: searchableVector.optional(),
    doc_id: z.string().min(1).max(1024).optional(),
    text: z.string().min(1).max(65536).optional(),
    k: z.number().int().min(1).max(1000).default(5),
    shards: z.array(z.number().int().min(0)).max(4096).optional(),
    exact: z.boolean().optional(),
    topic: z.string().max(249).optional(),
    model: z.string().max(200).optional(),
    embedded_after: z.number().nonnegative().optional(),
    embedded_before: z.number().nonnegative().optional(),
    include_self: z.boolean().optional(),
  })
  .strict()
  .refine((q) => [q.vector, q.doc_id, q.text].filter((v) => v !== undefined).length === 1, {
    message: "give exactly one of vector, doc_id or text",
  });

export type KnnQuery = z.output<typeof knnQuerySchema>;

/**
 * One neighbour as the indexer answers it. The text fields (issue 14) are
 * what the index keeps: at most the first 300 characters, whether they were
 * cut, the full length when known, and whether any text is stored at all
 * (false: the record had none, EMBED_STORE_TEXT=0, with `text_len` known; or it
 * was indexed before texts were kept, `text_len` null). An indexer older than
 * that sends none of them: read as "not stored, length unknown".
 */
export const knnNeighborSchema = z.object({
  doc_id: z.string(),
  score: z.number(),
  model: z.string().nullish(),
  topic: z.string().nullish(),
  embedded_ts: z.number().nullish(),
  text: z.string().nullable().default(null),
  text_truncated: z.boolean().default(false),
  text_len: z.number().int().nonnegative().nullable().default(null),
  text_stored: z.boolean().default(false),
});

export const knnAnswerSchema = z.object({
  neighbors: z.array(knnNeighborSchema),
  count_scored: z.number(),
  took_ms: z.number().optional(),
  mode: z.string().optional(),
});

export type KnnAnswer = z.output<typeof knnAnswerSchema>;
export type KnnNeighbor = z.output<typeof knnNeighborSchema>;
