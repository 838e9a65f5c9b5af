import type { DocFilter, ShardHit } from "./shard-index";
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
}

export interface SearchResult {
  neighbors: Scored<ShardHit>[];
  /** Candidates whose score was computed: every vector scanned (exact) or every candidate the graphs returned (HNSW). */
  countScored: number;
  /**
   * `hnsw`: every shard answered from its graph. `exact`: every shard was scanned.
   * `mixed`: filters were so selective in some shards that their graph's
   * candidates ran out, and those shards were scanned exactly instead.
   */
  mode: "hnsw" | "exact" | "mixed";
}

/**
 * With a filter, the graph is asked for this many times k candidates before a
 * shard falls back to an exact scan: filters that keep at least about a quarter
 * of a shard are answered from the graph.
 */
const FILTER_OVERSAMPLE = 4;

/**
 * Shards this small are scanned exactly even when HNSW is asked for: usearch's
 * SIMD scan of 1000 512-dim vectors takes about as long as one graph search
 * (≈50 µs on this machine), and is exact.
 */
const SCAN_BELOW = 1000;

/** Top-k cosine neighbours of the unit vector `q` across the chosen shards. */
export function searchIndex(index: VectorIndex, query: Float32Array, opts: SearchOptions): SearchResult {
  // usearch's native side reads a typed array from the start of its buffer, so a
  // view into a larger buffer (a subarray) would be read as the wrong vector.
  const q = query.byteOffset === 0 && query.length * 4 === query.buffer.byteLength ? query : query.slice();
  const exclude = opts.excludeDocId;
  // The excluded document is dropped after the search, so one extra neighbour is asked for.
  const k = exclude === undefined ? opts.k : opts.k + 1;
  const filter = opts.filter;
  const shards = opts.shards ? opts.shards.map((id) => index.shards[id]).filter((s) => s !== undefined) : index.shards;
  const merged: Scored<ShardHit>[] = [];
  let countScored = 0;
  let graphShards = 0;
  let scannedShards = 0;
  for (const shard of shards) {
    if (shard.count === 0) continue;
    if (!opts.exact && shard.count >= SCAN_BELOW) {
      const answer = shard.searchGraph(q, k, filter, filter ? FILTER_OVERSAMPLE : 1);
      countScored += answer.scored;
      if (answer.complete) {
        merged.push(...answer.hits);
        graphShards++;
        continue;
      }
    }
    const answer = shard.searchExact(q, k, filter);
    countScored += answer.scored;
    merged.push(...answer.hits);
    scannedShards++;
  }
  const neighbors = merged.filter((h) => h.item.docId !== exclude).sort((a, b) => b.score - a.score);
  const mode = scannedShards === 0 ? "hnsw" : graphShards === 0 ? "exact" : "mixed";
  return { neighbors: neighbors.slice(0, opts.k), countScored, mode: opts.exact ? "exact" : mode };
}
