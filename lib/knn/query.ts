import { z } from "zod";
import { directionProblem } from "../index/vector";

/**
 * The kNN query, one schema for every side of the wire: the console's
 * POST /api/knn/query, each emb-indexer's POST /knn/query (the console
 * forwards what it parsed, so both refuse the same bodies with the same
 * words) and the tests. No runtime imports beyond zod and the pure vector
 * helpers: workers, route handlers and (as types) the browser share it.
 */

export const MAX_K = 1000;
/** Most components of a query vector (the largest model we know is 4,096 dims; twice that leaves room). */
export const MAX_QUERY_DIMS = 8192;
/**
 * Most characters of a doc_id in a query. The pipeline takes doc_ids of any
 * length (the index keeps long ones under their hash), and the indexer has
 * always answered a 3,000-character one by doc_id; 64 Ki leaves room while
 * still refusing a pasted file. (The console's own limit was 1,024 before this
 * schema was shared.)
 */
export const MAX_DOC_ID_CHARS = 65536;
/** Most characters of a query text (64 Ki): far beyond any model's context, so never the reason a real query fails. */
export const MAX_QUERY_TEXT_CHARS = 65536;
/** Most shard ids in one query (the index has EMB_INDEX_SHARDS of them, 32 by default). */
export const MAX_QUERY_SHARDS = 4096;

// zod refuses Infinity (JSON's 1e999) as "not a number"; one message covers both.
const finite = (what: string) => z.number({ error: `${what} must be a finite number` }).refine(Number.isFinite, `${what} must be a finite number`);
const kMessage = `k must be an integer from 1 to ${MAX_K}`;

/**
 * Body of a kNN query: exactly one of `vector`, `doc_id` or `text`.
 *
 * - `shards`: search only these shard ids; an empty list is refused (leave it
 *   out to search every shard) — the console once passed `[]` through and the
 *   indexer refused it, so the user saw the indexer's 422 for the console's input.
 * - `exclude_doc_id`: leave this document out of the answer. The console sends
 *   it when it resolved a `doc_id` query to its vector and fans the vector out
 *   (the document is not its own neighbour unless `include_self`).
 * - A vector without a direction (all zeros, norm overflowing or underflowing)
 *   is refused here, before any instance is asked.
 */
export const knnQuerySchema = z
  .object({
    vector: z.array(finite("every vector component")).min(1, "vector is empty").max(MAX_QUERY_DIMS, `vector has more than ${MAX_QUERY_DIMS} components`).optional(),
    doc_id: z.string().min(1, "doc_id is empty").max(MAX_DOC_ID_CHARS, `doc_id is longer than ${MAX_DOC_ID_CHARS} characters`).optional(),
    text: z.string().trim().min(1, "text is empty").max(MAX_QUERY_TEXT_CHARS, `text is longer than ${MAX_QUERY_TEXT_CHARS} characters`).optional(),
    k: z.number({ error: kMessage }).int(kMessage).min(1, kMessage).max(MAX_K, kMessage).default(5),
    shards: z
      .array(z.number({ error: "shard ids are integers" }).int("shard ids are integers").min(0, "shard ids are ≥ 0"))
      .min(1, "shards is empty; leave it out to search every shard")
      .max(MAX_QUERY_SHARDS, `more than ${MAX_QUERY_SHARDS} shard ids`)
      .optional(),
    exact: z.boolean().default(false),
    topic: z.string().max(249, "topic is longer than Kafka's 249 characters").optional(),
    model: z.string().max(200, "model is longer than 200 characters").optional(),
    embedded_after: finite("embedded_after").optional(),
    embedded_before: finite("embedded_before").optional(),
    include_self: z.boolean().default(false),
    exclude_doc_id: z.string().min(1, "exclude_doc_id is empty").max(MAX_DOC_ID_CHARS, `exclude_doc_id is longer than ${MAX_DOC_ID_CHARS} characters`).optional(),
  })
  .strict()
  .superRefine((q, ctx) => {
    const given = (["vector", "doc_id", "text"] as const).filter((f) => q[f] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({ code: "custom", message: `give exactly one of vector, doc_id or text (got ${given.length === 0 ? "none" : given.join(" and ")})` });
      return;
    }
    // Said without a path: "vector is all zeros: …" already names the field.
    const problem = q.vector && directionProblem(q.vector);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** A query as parsed (defaults filled in: k, exact, include_self). */
export type KnnQuery = z.output<typeof knnQuerySchema>;
/** A query as a client writes it (every defaulted field optional). */
export type KnnQueryInput = z.input<typeof knnQuerySchema>;
