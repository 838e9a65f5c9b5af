import { z } from "zod";
import { sameModel } from "../../lib/embedding/model-identity";
import { ApiError } from "../../lib/http/api-error";
import { searchIndexYielding } from "../../lib/index/search";
import type { DocFilter } from "../../lib/index/shard-index";
import type { AnswerText } from "../../lib/index/stored-text";
import { directionProblem, toUnit } from "../../lib/index/vector";
import type { VectorIndex } from "../../lib/index/vector-index";
import type { ExactQueryGate } from "./exact-gate";

export const MAX_K = 1000;

// zod refuses Infinity (JSON's 1e999) as "not a number"; one message covers both.
const finite = (what: string) => z.number({ error: `${what} must be a finite number` }).refine(Number.isFinite, `${what} must be a finite number`);

/** Body of POST /knn/query. */
export const knnQuerySchema = z
  .object({
    vector: z.array(finite("every vector component")).min(1, "vector is empty").optional(),
    doc_id: z.string().min(1, "doc_id is empty").optional(),
    text: z.string().trim().min(1, "text is empty").optional(),
    k: z
      .number({ error: `k must be an integer from 1 to ${MAX_K}` })
      .int(`k must be an integer from 1 to ${MAX_K}`)
      .min(1, `k must be an integer from 1 to ${MAX_K}`)
      .max(MAX_K, `k must be an integer from 1 to ${MAX_K}`)
      .default(5),
    shards: z.array(z.number().int("shard ids are integers").min(0, "shard ids are ≥ 0")).min(1, "shards is empty; leave it out to search every shard").optional(),
    exact: z.boolean().default(false),
    topic: z.string().optional(),
    model: z.string().optional(),
    embedded_after: finite("embedded_after").optional(),
    embedded_before: finite("embedded_before").optional(),
    include_self: z.boolean().default(false),
  })
  .superRefine((q, ctx) => {
    const given = (["vector", "doc_id", "text"] as const).filter((f) => q[f] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({ code: "custom", message: `give exactly one of vector, doc_id or text (got ${given.length === 0 ? "none" : given.join(" and ")})` });
    }
  });

export type KnnQuery = z.output<typeof knnQuerySchema>;

export interface KnnAnswer {
  /** Each neighbour with what the index keeps of its text (lib/index/stored-text.ts). */
  neighbors: ({ doc_id: string; score: number; model: string; topic: string | null; embedded_ts: number } & AnswerText)[];
  count_scored: number;
  took_ms: number;
  mode: "hnsw" | "exact" | "mixed";
}

/** Embeds a query text with the configured model; throws ApiError when it cannot. */
export type EmbedText = (text: string) => Promise<number[]>;

function filterOf(q: KnnQuery): DocFilter | undefined {
  const { topic, model, embedded_after: after, embedded_before: before } = q;
  if (topic === undefined && model === undefined && after === undefined && before === undefined) return undefined;
  // A model filter takes either name of a registry model (short name or id); decided once per distinct name held.
  const modelMatches = new Map<string, boolean>();
  const isModel = (m: string) => {
    let yes = modelMatches.get(m);
    if (yes === undefined) modelMatches.set(m, (yes = sameModel(m, model as string)));
    return yes;
  };
  return (m) =>
    (topic === undefined || m.topic === topic) &&
    (model === undefined || isModel(m.model)) &&
    (after === undefined || m.embeddedTs > after) &&
    (before === undefined || m.embeddedTs < before);
}

/**
 * The unit vector of a query vector, or a 422 `invalid_request` naming why it
 * has none (lib/index/vector.ts directionProblem). The index's ingest refuses
 * such vectors the same way (decode.ts, bad_vector).
 */
export function queryUnit(values: readonly number[]): Float32Array {
  const problem = directionProblem(values);
  if (problem) throw new ApiError(422, "invalid_request", problem);
  return toUnit(values)!.unit;
}

export interface RunOptions {
  /** The HNSW candidate list to search with (the recall monitor's, RecallMonitor.ef). */
  ef?: number;
  /** Bounds the exact scans running at once (exact-gate.ts); none: unbounded (tests, benches). */
  gate?: ExactQueryGate;
  /** The client went away: a waiting or running scan stops. */
  signal?: AbortSignal;
}

/** Answer a validated query; semantic errors (dimensions, shards, unknown doc_id, zero or overflowing vector) are ApiErrors. */
export async function runKnnQuery(index: VectorIndex, q: KnnQuery, embedText: EmbedText, run: RunOptions = {}): Promise<KnnAnswer> {
  const started = performance.now();
  const shardCount = index.opts.shards;
  const unknownShard = q.shards?.find((s) => s >= shardCount);
  if (unknownShard !== undefined) throw new ApiError(422, "unknown_shard", `unknown shard ${unknownShard}: shards are 0 to ${shardCount - 1}`);

  let query: Float32Array;
  let excludeDocId: string | undefined;
  if (q.doc_id !== undefined) {
    const found = index.locate(q.doc_id);
    if (!found) throw new ApiError(404, "unknown_doc_id", `the index holds no document with doc_id ${JSON.stringify(q.doc_id)}`);
    query = found.vector;
    if (!q.include_self) excludeDocId = q.doc_id;
  } else {
    // A given vector is checked before anything else: even an empty index refuses one without a direction.
    const given = q.vector ? queryUnit(q.vector) : undefined;
    const values = q.vector ?? (await embedText(q.text as string));
    const dim = index.dim;
    if (dim === undefined) return { neighbors: [], count_scored: 0, took_ms: elapsed(started), mode: q.exact ? "exact" : "hnsw" };
    if (values.length !== dim) {
      const what = q.vector ? "vector has" : "the embedded text has";
      throw new ApiError(q.vector ? 422 : 409, "dimension_mismatch", `${what} ${values.length} dimensions but the index holds ${dim}-dim vectors`);
    }
    const unit = given ?? toUnit(values)?.unit;
    // Only a broken embedding service answers a text with a vector without a direction.
    if (!unit) throw new ApiError(502, "upstream_failed", "the embedding service answered the text with a vector without a direction (all zeros or not finite)");
    query = unit;
  }

  const { gate, signal } = run;
  const result = await searchIndexYielding(
    index,
    query,
    { k: q.k, shards: q.shards, exact: q.exact, filter: filterOf(q), excludeDocId, ef: run.ef },
    { signal, beforeScan: gate && (() => gate.enter(signal)) },
  );
  return {
    // k LMDB reads (≈ 1–2 µs each): the texts are on disk, not in the shards' memory.
    neighbors: result.neighbors.map(({ item, score }) => ({ doc_id: item.docId, score, model: item.model, topic: item.topic, embedded_ts: item.embeddedTs, ...index.text(item.docId) })),
    count_scored: result.countScored,
    took_ms: elapsed(started),
    mode: result.mode,
  };
}

const elapsed = (since: number) => Math.round((performance.now() - since) * 1000) / 1000;
