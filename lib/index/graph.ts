import { createGraph, type HnswGraph, type HnswParams } from "./hnsw";
import type { DocMeta, DocTable, ShardHit, ShardIndex } from "./shard-index";

/** Keys added to the graph per native call when (re)building from LMDB: bounds the temporary copy of their vectors. */
const ADD_CHUNK = 16_384;

/** Raw graph answer: keys and cosine scores, best first. */
export interface GraphMatches {
  keys: BigUint64Array;
  distances: Float32Array;
}

/** Reads a key's f32 vector bytes (LMDB's, zero-copy) into a buffer. */
export type VectorReader = (key: number, into: Uint8Array, byteOffset: number) => boolean;

/**
 * One HNSW graph over every shard's vectors, keyed by the documents' index
 * keys; which shard holds a key (and its metadata) comes from the DocTable.
 * The graph holds exactly the table's keys (VectorIndex keeps them in step).
 *
 * Why one graph and not one per shard: a query then makes one graph search
 * instead of one per shard. With 32 per-shard graphs each query descended 32
 * graphs from their entry points, every one of them cold in the CPU caches, and
 * paid ≈ 250–350 µs per shard (≈ 10 ms at 100k vectors); one graph over all of
 * them answers in well under a millisecond at the same recall.
 */
export class IndexGraph {
  private graph: HnswGraph;
  private held = 0;
  /** Changed since last saved. */
  dirty = false;

  constructor(
    private readonly dim: number,
    private readonly params: HnswParams,
    private readonly table: DocTable,
  ) {
    this.graph = createGraph(dim, params);
  }

  /** Keys in the graph. */
  get size(): number {
    return this.held;
  }

  /** The native graph (saved by GraphSnapshots). */
  get native(): HnswGraph {
    return this.graph;
  }

  /** Every key in the graph. */
  keys(): BigUint64Array {
    const out = new BigUint64Array(this.table.size);
    let i = 0;
    for (const key of this.table.keys()) out[i++] = BigInt(key);
    return out;
  }

  /** A key in the graph: its shard, its metadata for filters, and its hit for an answer (doc_id read from LMDB). */
  hit(key: number): { shard: ShardIndex; meta: DocMeta; resolve: () => ShardHit } | undefined {
    if (this.table.isHidden(key)) return undefined; // a partition being released: no longer this index's to answer
    const at = this.table.find(key);
    const meta = at && this.table.meta(key);
    return at && meta ? { shard: at.shard, meta, resolve: () => at.shard.hitAt(at.row) } : undefined;
  }

  /** Add keys with their unit vectors, `vectors` row-major (one native call, on `threads` threads). */
  addVectors(keys: readonly number[], vectors: Float32Array, threads: number): void {
    if (keys.length === 0) return;
    this.graph.add(BigUint64Array.from(keys, (k) => BigInt(k)), vectors, threads);
    this.held += keys.length;
    this.dirty = true;
  }

  /** Add keys whose vectors LMDB holds, in chunks. */
  addFrom(keys: Iterable<number>, read: VectorReader, threads: number): void {
    const buf = new Float32Array(ADD_CHUNK * this.dim);
    const bytes = new Uint8Array(buf.buffer);
    let chunk: number[] = [];
    const flush = () => {
      if (chunk.length === 0) return;
      // usearch reads the array from the start of its buffer: a full-length copy for a partial chunk.
      this.addVectors(chunk, chunk.length === ADD_CHUNK ? buf : buf.slice(0, chunk.length * this.dim), threads);
      chunk = [];
    };
    for (const key of keys) {
      if (!read(key, bytes, chunk.length * this.dim * 4)) continue;
      chunk.push(key);
      if (chunk.length === ADD_CHUNK) flush();
    }
    flush();
  }

  /** Remove several keys in one native call (about a third cheaper per key than one at a time). */
  removeMany(keys: readonly number[]): void {
    if (keys.length === 0) return;
    const removed = this.graph.remove(BigUint64Array.from(keys, (k) => BigInt(k))) as number | number[];
    const n = typeof removed === "number" ? removed : removed.reduce((a, b) => a + b, 0);
    if (n === 0) return;
    this.held -= n;
    this.dirty = true;
  }

  remove(key: number): void {
    if ((this.graph.remove(BigInt(key)) as number) === 0) return;
    this.held--;
    this.dirty = true;
  }

  /** Nearest `wanted` keys of unit vector `q` (usearch searches with max(efSearch, wanted) candidates). */
  search(q: Float32Array, wanted: number): GraphMatches {
    return this.graph.search(q, wanted, 1);
  }

  /** Build from every key of the table, vectors read from LMDB. */
  rebuild(read: VectorReader, threads: number): void {
    this.graph = createGraph(this.dim, this.params);
    this.held = 0;
    this.addFrom(this.table.keys(), read, threads);
    this.dirty = this.held > 0;
  }

  /**
   * Adopt a graph loaded from a snapshot and bring it up to date with the
   * table (which comes from LMDB, the truth): drop keys the table no longer
   * holds, add the ones the snapshot missed. Returns how many keys changed.
   */
  restore(graph: HnswGraph, snapshotKeys: BigUint64Array, read: VectorReader, threads: number): number {
    this.graph = graph;
    this.held = 0;
    let changed = 0;
    const inSnapshot = new Set<number>();
    for (const big of snapshotKeys) {
      const key = Number(big);
      if (this.table.has(key)) {
        inSnapshot.add(key);
        this.held++;
      } else {
        graph.remove(big);
        changed++;
      }
    }
    const missing = [...this.table.keys()].filter((key) => !inSnapshot.has(key));
    this.addFrom(missing, read, threads);
    changed += missing.length;
    this.dirty = changed > 0;
    return changed;
  }
}
