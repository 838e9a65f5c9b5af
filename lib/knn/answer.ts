import { z } from "zod";

/**
 * kNN answers, one module for every side: what an emb-indexer answers to
 * POST /knn/query (`IndexerKnnAnswer`, and `knnAnswerSchema` for the console
 * reading it), and what the console answers after asking every indexer
 * (`KnnAnswer`: the merged neighbours plus `instances` and `partial`).
 */

/** How far an indexer is with one partition it owns: `loading` from assignment until it first reaches the end seen at assignment, `live` after. */
export interface PartitionProgress {
  partition: number;
  state: "loading" | "live";
  /** Next offset the index will apply (records before it are in the index). */
  applied: number;
  /** The partition's end as seen at assignment; null until known. */
  end: number | null;
}

export const partitionProgressSchema = z.object({
  partition: z.number().int().nonnegative(),
  state: z.enum(["loading", "live"]),
  applied: z.number(),
  end: z.number().nullable(),
});

/** One neighbour as an indexer writes it (texts: lib/index/stored-text.ts). */
export interface IndexerNeighbor {
  doc_id: string;
  score: number;
  model: string;
  topic: string | null;
  embedded_ts: number;
  text: string | null;
  text_truncated: boolean;
  text_len: number | null;
  text_stored: boolean;
}

/** What an emb-indexer answers to POST /knn/query. `instance` and `partitions` name who answered and from what. */
export interface IndexerKnnAnswer {
  neighbors: IndexerNeighbor[];
  count_scored: number;
  took_ms: number;
  mode: "hnsw" | "exact" | "mixed";
  instance?: string;
  partitions?: PartitionProgress[];
}

/**
 * One neighbour as the console reads it. The text fields (issue 14) are what
 * the index keeps: at most the first 300 characters, whether they were cut,
 * the full length when known, and whether any text is stored at all (false:
 * the record had none, EMBED_STORE_TEXT=0, with `text_len` known; or it was
 * indexed before texts were kept, `text_len` null). An indexer older than
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

/** One indexer's answer as the console reads it (older indexers send neither `instance` nor `partitions`). */
export const knnAnswerSchema = z.object({
  neighbors: z.array(knnNeighborSchema),
  count_scored: z.number(),
  took_ms: z.number().optional(),
  mode: z.string().optional(),
  instance: z.string().optional(),
  partitions: z.array(partitionProgressSchema).optional(),
});

// The indexer's answer must be one the console reads: this fails to compile when they drift apart.
const _indexerAnswerIsReadable = (a: IndexerKnnAnswer): z.input<typeof knnAnswerSchema> => a;
void _indexerAnswerIsReadable;

export type KnnNeighbor = z.output<typeof knnNeighborSchema>;
export type IndexerAnswerRead = z.output<typeof knnAnswerSchema>;

/** Why an answer may lack neighbours from some partitions. */
export type PartialReason = "timeout" | "failed" | "unassigned" | "loading";

/** How one indexer instance took part in a query. */
export const knnInstanceSchema = z.object({
  instance: z.string(),
  url: z.string(),
  /** Partitions of the embeddings topic it owns (per the group, or as it answered). */
  partitions: z.array(z.number()),
  ok: z.boolean(),
  took_ms: z.number().nullable(),
  error: z.string().optional(),
});
export type KnnInstance = z.output<typeof knnInstanceSchema>;

/**
 * Partitions of the topic no answering instance covered live, and why (the
 * first reason in the order timeout, failed, unassigned, loading names the
 * answer; the message names every partition with its reason).
 */
export const knnPartialSchema = z.object({
  reason: z.enum(["timeout", "failed", "unassigned", "loading"]),
  message: z.string(),
  partitions: z.array(z.number()),
});
export type KnnPartial = z.output<typeof knnPartialSchema>;

/** The console's answer to POST /api/knn/query: the merged top-k, who answered, and what is missing. */
export const consoleKnnAnswerSchema = z.object({
  neighbors: z.array(knnNeighborSchema),
  count_scored: z.number(),
  took_ms: z.number().optional(),
  mode: z.string().optional(),
  instances: z.array(knnInstanceSchema),
  partial: knnPartialSchema.nullable(),
});
export type KnnAnswer = z.output<typeof consoleKnnAnswerSchema>;
