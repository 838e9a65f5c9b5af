import { createGraph, type HnswGraph, type HnswParams } from "./hnsw";
import type { DocMeta, ShardIndex } from "./shard-index";

/** Keys added to the graph per native call when (re)building: bounds the temporary copy of their vectors. */
const ADD_CHUNK = 16_384;

/** Raw graph answer: keys and cosine scores, best first. */
export interface GraphMatches {
  keys: BigUint64Array;
  distances: Float32Array;
}

/**
 * One HNSW graph over every shard's vectors, keyed by the documents' index
 * keys, plus which shard holds each key (for its metadata, read from memory).
 *
 * Why one graph and not one per shard: a query then makes one graph search
 * instead of one per shard. With 32 per-shard graphs each query descended 32
 * graphs from their entry points, every one of them cold in the CPU caches, and
 * paid ≈ 250–350 µs per shard (≈ 10 ms at 100k vectors); one graph over all of
 * them answers in well under a millisecond at the same recall.
 */
export class IndexGraph {
  private graph: HnswGraph;
  private readonly owner = new Map<number, ShardIndex>();
  /** Changed since last saved. */
  dirty = false;

  constructor(
    private readonly dim: number,
    private readonly params: HnswParams,
  ) {
    this.graph = createGraph(dim, params);
  }

  /** Keys in the graph. */
  get size(): number {
    return this.owner.size;
  }

  /** The native graph (saved by GraphSnapshots). */
  get native(): HnswGraph {
    return this.graph;
  }

  /** Every key in the graph. */
  keys(): BigUint64Array {
    const out = new BigUint64Array(this.owner.size);
    let i = 0;
    for (const key of this.owner.keys()) out[i++] = BigInt(key);
    return out;
  }

  /** Metadata of a key in the graph, from its shard's memory. */
  hit(key: number): { shard: ShardIndex; meta: DocMeta } | undefined {
    const shard = this.owner.get(key);
    const meta = shard?.metaOf(key);
    return shard && meta ? { shard, meta } : undefined;
  }

  /** Add keys whose vectors `shard` already holds. */
  add(shard: ShardIndex, keys: readonly number[], threads: number): void {
    for (let from = 0; from < keys.length; from += ADD_CHUNK) {
      const chunk = keys.slice(from, from + ADD_CHUNK);
      const flat = new Float32Array(chunk.length * this.dim);
      chunk.forEach((key, i) => flat.set(shard.vectorView(key) as Float32Array, i * this.dim));
      this.graph.add(BigUint64Array.from(chunk, (k) => BigInt(k)), flat, threads);
      for (const key of chunk) this.owner.set(key, shard);
    }
    if (keys.length > 0) this.dirty = true;
  }

  remove(key: number): void {
    if (!this.owner.delete(key)) return;
    this.graph.remove(BigInt(key));
    this.dirty = true;
  }

  /** Nearest `wanted` keys of unit vector `q` (usearch searches with max(efSearch, wanted) candidates). */
  search(q: Float32Array, wanted: number): GraphMatches {
    return this.graph.search(q, wanted, 1);
  }

  /** Build from every row of `shards`. */
  rebuild(shards: readonly ShardIndex[], threads: number): void {
    this.graph = createGraph(this.dim, this.params);
    this.owner.clear();
    for (const shard of shards) this.add(shard, shard.keys(), threads);
    this.dirty = this.owner.size > 0;
  }

  /**
   * Adopt a graph loaded from a snapshot and bring it up to date with the rows
   * of `shards` (which come from LMDB, the truth): drop keys the rows no longer
   * hold, add the ones the snapshot missed. Returns how many keys changed.
   */
  restore(graph: HnswGraph, snapshotKeys: BigUint64Array, shards: readonly ShardIndex[], threads: number): number {
    const live = new Map<number, ShardIndex>();
    for (const shard of shards) for (const key of shard.keys()) live.set(key, shard);
    this.graph = graph;
    this.owner.clear();
    let changed = 0;
    for (const big of snapshotKeys) {
      const key = Number(big);
      const shard = live.get(key);
      if (shard) {
        this.owner.set(key, shard);
        live.delete(key);
      } else {
        graph.remove(big);
        changed++;
      }
    }
    const missing = new Map<ShardIndex, number[]>();
    for (const [key, shard] of live) {
      const list = missing.get(shard) ?? [];
      list.push(key);
      missing.set(shard, list);
    }
    for (const [shard, keys] of missing) this.add(shard, keys, threads);
    changed += live.size;
    this.dirty = changed > 0;
    return changed;
  }
}
