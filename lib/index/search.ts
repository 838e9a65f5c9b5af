import type { DocFilter, ShardHit, ShardIndex } from "./shard-index";
import type { Scored } from "./top-k";
import type { VectorIndex } from "./vector-index";

export interface SearchOptions {
  k: number;
  /** Shards to search; default all. */
  shards?: readonly number[];
  exact: boolean;
  filter?: DocFilter;
  /** Leave this document out (a doc_id query without include_self). */
  excludeDocId?: string;
  /**
   * HNSW candidate list for this query when larger than the index's efSearch
   * (usearch searches with max(efSearch, candidates asked for)); the benchmark
   * sweeps it without reopening the index.
   */
  ef?: number;
}

export interface SearchResult {
  neighbors: Scored<ShardHit>[];
  /** Candidates whose score was computed: every vector scanned (exact) plus every candidate the graph returned (HNSW). */
  countScored: number;
  /**
   * `hnsw`: answered from the index's graph. `exact`: the shards were scanned,
   * because exact search was asked for, the shards in scope hold too few
   * documents for a graph search to pay, or the shard subset and filters were
   * so selective that the graph's candidates ran out. `mixed` is no longer
   * produced (it was per-shard graphs answering some shards and scans others).
   */
  mode: "hnsw" | "exact" | "mixed";
}

/**
 * With a filter, the graph is asked for this many times k candidates (times
 * the share of the index outside a `shards` subset) before the query falls back
 * to an exact scan: filters that keep at least about a quarter of the documents
 * in scope are answered from the graph.
 */
const FILTER_OVERSAMPLE = 4;

/**
 * Fewer documents in scope than this are scanned exactly even when HNSW is
 * asked for: usearch's SIMD scan of 1000 512-dim vectors (USE-lite's, when
 * this was measured; the bundled models' 384-dim ones scan faster) takes about
 * as long as one graph search, and is exact.
 */
const SCAN_BELOW = 1000;

/**
 * A graph search asked for n candidates costs about as much as an exact scan
 * of this many times n vectors (measured on 100k 512-dim vectors, 2 loaded
 * cores: ≈ 5–8 µs per candidate asked for, ≈ 0.07–0.1 µs per vector scanned).
 * When a subset or filter needs so many candidates that scanning the shards in
 * scope is cheaper, they are scanned.
 */
const SCAN_PER_CANDIDATE = 64;

/** Top-k cosine neighbours of the unit vector `q` across the chosen shards, in one go. */
export function searchIndex(index: VectorIndex, query: Float32Array, opts: SearchOptions): SearchResult {
  const steps = searchSteps(index, query, opts);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The same search, handing the event loop back after each shard an exact scan
 * reads: over a large index a scan takes tens of milliseconds (bench/results/
 * knn-exact.json), and in between the worker keeps answering /health, HNSW
 * queries and applying Kafka batches. Documents changed meanwhile are read as
 * they are when their shard is scanned, as a search running during a batch would.
 *
 * `beforeScan` runs once, only when the search comes to scan SCAN_BELOW or
 * more vectors exactly (asked for with `exact`, or the graph could not answer
 * a selective filter):
 * it may wait (or throw) to bound how many scans run at once, and returns the
 * function that ends the scan's turn. `signal` ends the search early (the
 * client went away) with its reason.
 */
export async function searchIndexYielding(
  index: VectorIndex,
  query: Float32Array,
  opts: SearchOptions,
  hooks: { signal?: AbortSignal; beforeScan?: () => Promise<() => void> } = {},
): Promise<SearchResult> {
  const steps = searchSteps(index, query, opts);
  let endScan: (() => void) | undefined;
  try {
    for (;;) {
      hooks.signal?.throwIfAborted();
      const step = steps.next();
      if (step.done) return step.value;
      if (step.value === "scan") {
        endScan = await hooks.beforeScan?.();
        continue;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    endScan?.();
  }
}

/** A step of a search: `scan` before its exact scan begins, `shard` after each shard scanned. */
type Step = "scan" | "shard";

/** The search as steps (see Step); a synchronous caller just runs them all. */
function* searchSteps(index: VectorIndex, query: Float32Array, opts: SearchOptions): Generator<Step, SearchResult> {
  // usearch's native side reads a typed array from the start of its buffer, so a
  // view into a larger buffer (a subarray) would be read as the wrong vector.
  const q = query.byteOffset === 0 && query.length * 4 === query.buffer.byteLength ? query : query.slice();
  const exclude = opts.excludeDocId;
  // The excluded document is dropped after the search, so one extra neighbour is asked for.
  const k = exclude === undefined ? opts.k : opts.k + 1;
  const filter = opts.filter;
  const shards = opts.shards ? [...new Set(opts.shards)].map((id) => index.shards[id]).filter((s) => s !== undefined) : index.shards;
  const inScope = shards.reduce((n, s) => n + s.count, 0);
  const finish = (hits: Scored<ShardHit>[], countScored: number, mode: SearchResult["mode"]): SearchResult => ({
    neighbors: hits.filter((h) => h.item.docId !== exclude).sort((a, b) => b.score - a.score).slice(0, opts.k),
    countScored,
    mode,
  });
  if (inScope === 0) return finish([], 0, opts.exact ? "exact" : "hnsw");

  let countScored = 0;
  const graph = index.graph;
  if (!opts.exact && graph && inScope >= SCAN_BELOW) {
    const total = graph.size;
    const subset = inScope < total ? new Set(shards.map((s) => s.id)) : undefined;
    // Ask for enough candidates that about k of them fall in scope and pass the filter, and, while a partition
    // is being released, twice as many as its documents' share of the graph takes away (they are left out).
    const hidden = index.hiddenIds;
    const oversample = (filter ? FILTER_OVERSAMPLE : 1) * (total / inScope) * (hidden > 0 ? (2 * total) / Math.max(1, total - hidden) : 1);
    const wanted = Math.min(total, Math.max(k, Math.ceil(k * oversample), opts.ef ?? 0));
    if (!(subset || filter) || wanted * SCAN_PER_CANDIDATE < inScope) {
      const { keys, distances } = graph.search(q, wanted);
      const hits: Scored<ShardHit>[] = [];
      for (let i = 0; i < keys.length && hits.length < k; i++) {
        const key = Number(keys[i]);
        const found = graph.hit(key);
        if (!found) continue;
        countScored++;
        if (subset && !subset.has(found.shard.id)) continue;
        if (filter && !filter(found.meta)) continue;
        hits.push({ item: found.resolve(), score: 1 - (distances[i] as number) });
      }
      // Complete when k were found, or when the graph returned every document it holds.
      if (hits.length >= k || keys.length < wanted || wanted >= total) return finish(hits, countScored, "hnsw");
    }
  }
  const all = !opts.shards || shards.length === index.shards.length;
  return finish(...(yield* scan(shards, q, k, filter, countScored, all && !filter ? index.scanAll(q, k) : undefined)), "exact");
}

/**
 * Exact top k over `shards`, merged; yields after each shard scanned, and
 * `scan` before it starts when the scan is large enough to be bounded (fewer
 * than SCAN_BELOW vectors cost about one graph search).
 */
function* scan(
  shards: readonly ShardIndex[],
  q: Float32Array,
  k: number,
  filter: DocFilter | undefined,
  scoredBefore: number,
  bulk: Generator<void, { hits: Scored<ShardHit>[]; scored: number }> | undefined,
): Generator<Step, [Scored<ShardHit>[], number]> {
  if (shards.reduce((n, s) => n + s.count, 0) >= SCAN_BELOW) yield "scan";
  if (bulk) {
    // Every shard without a filter: LMDB's vectors in key order, in bulk (DocTable.scanAll), yielding between chunks.
    for (;;) {
      const step = bulk.next();
      if (step.done) return [step.value.hits, scoredBefore + step.value.scored];
      yield "shard";
    }
  }
  const merged: Scored<ShardHit>[] = [];
  let countScored = scoredBefore;
  for (const shard of shards) {
    if (shard.count === 0) continue;
    const answer = shard.searchExact(q, k, filter);
    countScored += answer.scored;
    merged.push(...answer.hits);
    yield "shard";
  }
  return [merged, countScored];
}
