import { z } from "zod";

const finite = z.number().refine(Number.isFinite, "must be a finite number");

/** Body of POST /api/knn/query (the indexer's contract, issue 6): exactly one of vector, doc_id, text. */
export const knnQuerySchema = z
  .object({
    vector: z.array(finite).min(1).max(8192).optional(),
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

export const knnNeighborSchema = z.object({
  doc_id: z.string(),
  score: z.number(),
  model: z.string().nullish(),
  topic: z.string().nullish(),
  embedded_ts: z.number().nullish(),
});

export const knnAnswerSchema = z.object({
  neighbors: z.array(knnNeighborSchema),
  count_scored: z.number(),
  took_ms: z.number().optional(),
  mode: z.string().optional(),
});

export type KnnAnswer = z.output<typeof knnAnswerSchema>;
export type KnnNeighbor = z.output<typeof knnNeighborSchema>;
