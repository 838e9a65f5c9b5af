import { sameModel } from "../../lib/embedding/model-identity";
import { ApiError } from "../../lib/http/api-error";
import { searchIndexYielding } from "../../lib/index/search";
import type { DocFilter } from "../../lib/index/shard-index";
import { directionProblem, toUnit } from "../../lib/index/vector";
import type { VectorIndex } from "../../lib/index/vector-index";
import type { IndexerKnnAnswer as KnnAnswer } from "../../lib/knn/answer";
import type { KnnQuery } from "../../lib/knn/query";
import type { ExactQueryGate } from "./exact-gate";

// The query schema and answer types are the console's and the tests' too: they live in lib/knn/ only.

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
  if (problem) throw new ApiError("invalid_request", problem);
  return toUnit(values)!.unit;
}

/**
 * The unit vector of a query text, embedded with the index's model; the same
 * errors for /knn/query and /knn/resolve: the embedding service's (embed-text.ts),
 * 409 `model_mismatch` when the index holds vectors of another dimension (the
 * embedding service serves another model than the one the index was built with),
 * 502 when the service answered with a vector without a direction. An empty
 * index takes any dimension (another instance of the group may hold data).
 */
export async function textUnit(index: Pick<VectorIndex, "dim">, text: string, embedText: EmbedText): Promise<Float32Array> {
  const values = await embedText(text);
  const dim = index.dim;
  if (dim !== undefined && values.length !== dim) throw new ApiError("model_mismatch", `the embedded text has ${values.length} dimensions but the index holds ${dim}-dim vectors`);
  const unit = toUnit(values)?.unit;
  // Only a broken embedding service answers a text with a vector without a direction.
  if (!unit) throw new ApiError("upstream_failed", "the embedding service answered the text with a vector without a direction (all zeros or not finite)");
  return unit;
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
  if (unknownShard !== undefined) throw new ApiError("unknown_shard", `unknown shard ${unknownShard}: shards are 0 to ${shardCount - 1}`);

  let query: Float32Array;
  // The console resolves a doc_id query to its vector once and sends the vector with exclude_doc_id to every instance.
  let excludeDocId: string | undefined = q.exclude_doc_id;
  if (q.doc_id !== undefined) {
    const found = index.locate(q.doc_id);
    if (!found) throw new ApiError("unknown_doc_id", `the index holds no document with doc_id ${JSON.stringify(q.doc_id)}`);
    query = found.vector;
    if (!q.include_self) excludeDocId = q.doc_id;
  } else if (q.vector) {
    // A given vector is checked before anything else: even an empty index refuses one without a direction.
    const unit = queryUnit(q.vector);
    const dim = index.dim;
    if (dim === undefined) return { neighbors: [], count_scored: 0, took_ms: elapsed(started), mode: q.exact ? "exact" : "hnsw" };
    if (q.vector.length !== dim) throw new ApiError("dimension_mismatch", `vector has ${q.vector.length} dimensions but the index holds ${dim}-dim vectors`);
    query = unit;
  } else {
    query = await textUnit(index, q.text as string, embedText);
    if (index.dim === undefined) return { neighbors: [], count_scored: 0, took_ms: elapsed(started), mode: q.exact ? "exact" : "hnsw" };
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
