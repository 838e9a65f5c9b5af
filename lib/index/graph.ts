import { createGraph, type GraphSnapshots, type HnswGraph, type HnswParams } from "./hnsw";
import type { DocMeta, DocTable, ShardHit, ShardIndex } from "./shard-index";
import { dotRow } from "./vector";

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
  /**
   * Changes made while the graph is being written to disk (usearch reads it on
   * another thread then, and an add or remove would race the write): applied
   * when the write ends. Searches meanwhile score the held-back additions
   * exactly and leave the held-back removals out.
   */
  private heldBack: { adds: Map<number, Float32Array>; removes: Set<number> } | null = null;
  /** The snapshot being written. */
  private writing: Promise<void> | null = null;

  constructor(
    private readonly dim: number,
    private readonly params: HnswParams,
    private readonly table: DocTable,
    /** Threads each native insert runs on. */
    private readonly threads: number,
  ) {
    this.graph = createGraph(dim, params);
  }

  /** Keys in the graph. */
  get size(): number {
    return this.held;
  }

  /** A key in the graph: its shard, its metadata for filters, and its hit for an answer (doc_id read from LMDB). */
  hit(key: number): { shard: ShardIndex; meta: DocMeta; resolve: () => ShardHit } | undefined {
    if (this.table.isHidden(key)) return undefined; // a partition being released: no longer this index's to answer
    const at = this.table.find(key);
    const meta = at && this.table.meta(key);
    return at && meta ? { shard: at.shard, meta, resolve: () => at.shard.hitAt(at.row) } : undefined;
  }

  /** Add keys with their unit vectors, `vectors` row-major (one native call on every thread). */
  addVectors(keys: readonly number[], vectors: Float32Array): void {
    if (keys.length === 0) return;
    if (this.heldBack) {
      const adds = this.heldBack.adds;
      keys.forEach((key, i) => adds.set(key, vectors.slice(i * this.dim, (i + 1) * this.dim)));
    } else {
      this.graph.add(BigUint64Array.from(keys, (k) => BigInt(k)), vectors, this.threads);
    }
    this.held += keys.length;
    this.dirty = true;
  }

  /** Add keys whose vectors LMDB holds, in chunks. */
  addFrom(keys: Iterable<number>, read: VectorReader): void {
    const buf = new Float32Array(ADD_CHUNK * this.dim);
    const bytes = new Uint8Array(buf.buffer);
    let chunk: number[] = [];
    const flush = () => {
      if (chunk.length === 0) return;
      // usearch reads the array from the start of its buffer: a full-length copy for a partial chunk.
      this.addVectors(chunk, chunk.length === ADD_CHUNK ? buf : buf.slice(0, chunk.length * this.dim));
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
    if (this.heldBack) {
      for (const key of keys) this.holdBackRemove(key);
      return;
    }
    const removed = this.graph.remove(BigUint64Array.from(keys, (k) => BigInt(k))) as number | number[];
    const n = typeof removed === "number" ? removed : removed.reduce((a, b) => a + b, 0);
    if (n === 0) return;
    this.held -= n;
    this.dirty = true;
  }

  remove(key: number): void {
    if (this.heldBack) return this.holdBackRemove(key);
    if ((this.graph.remove(BigInt(key)) as number) === 0) return;
    this.held--;
    this.dirty = true;
  }

  /** Nearest `wanted` keys of unit vector `q` (usearch searches with max(efSearch, wanted) candidates). */
  search(q: Float32Array, wanted: number): GraphMatches {
    const held = this.heldBack;
    if (!held) return this.graph.search(q, wanted, 1);
    const found = this.graph.search(q, wanted + held.removes.size, 1);
    const matches: { key: bigint; distance: number }[] = [];
    found.keys.forEach((key, i) => {
      if (!held.removes.has(Number(key))) matches.push({ key, distance: found.distances[i] as number });
    });
    for (const [key, vector] of held.adds) matches.push({ key: BigInt(key), distance: 1 - dotRow(q, vector, 0) });
    matches.sort((a, b) => a.distance - b.distance);
    const best = matches.slice(0, wanted);
    return { keys: BigUint64Array.from(best, (m) => m.key), distances: Float32Array.from(best, (m) => m.distance) };
  }

  /**
   * Write the graph to a new snapshot when it changed since the last one,
   * without holding the thread: usearch writes it on another thread while
   * searches go on, and adds and removes are held back until it is written.
   * A write already running is waited for first. Resolves to whether a
   * snapshot was written (not when the graph is unchanged).
   */
  async saveTo(snapshots: GraphSnapshots): Promise<boolean> {
    while (this.writing) await this.writing.catch(() => undefined);
    if (!this.dirty) return false;
    this.heldBack = { adds: new Map(), removes: new Set() };
    this.dirty = false;
    this.writing = snapshots.save(this.graph, this.dim, this.params);
    try {
      await this.writing;
      return true;
    } catch (err) {
      this.dirty = true;
      throw err;
    } finally {
      this.writing = null;
      this.applyHeldBack();
    }
  }

  /** Whether a snapshot is being written. */
  get saving(): boolean {
    return this.heldBack !== null;
  }

  private holdBackRemove(key: number): void {
    const held = this.heldBack as NonNullable<typeof this.heldBack>;
    if (held.adds.delete(key)) {
      this.held--;
    } else if (!held.removes.has(key) && this.graph.contains(BigInt(key))) {
      held.removes.add(key);
      this.held--;
    } else {
      return;
    }
    this.dirty = true;
  }

  private applyHeldBack(): void {
    const held = this.heldBack;
    this.heldBack = null;
    if (!held) return;
    if (held.removes.size > 0) this.graph.remove(BigUint64Array.from(held.removes, (k) => BigInt(k)));
    if (held.adds.size === 0) return;
    const flat = new Float32Array(held.adds.size * this.dim);
    let i = 0;
    for (const vector of held.adds.values()) flat.set(vector, i++ * this.dim);
    this.graph.add(BigUint64Array.from(held.adds.keys(), (k) => BigInt(k)), flat, this.threads);
  }

  /** Build from every key of the table, vectors read from LMDB. */
  rebuild(read: VectorReader): void {
    this.graph = createGraph(this.dim, this.params);
    this.held = 0;
    this.addFrom(this.table.keys(), read);
    this.dirty = this.held > 0;
  }

  /**
   * Adopt a graph loaded from a snapshot and bring it up to date with the
   * table (which comes from LMDB, the truth): drop keys the table no longer
   * holds, add the ones the snapshot missed. Returns how many keys changed.
   */
  restore(graph: HnswGraph, snapshotKeys: BigUint64Array, read: VectorReader): number {
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
    this.addFrom(missing, read);
    changed += missing.length;
    this.dirty = changed > 0;
    return changed;
  }
}
