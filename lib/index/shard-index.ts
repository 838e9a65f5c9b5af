import usearch from "usearch";
import { createGraph, type HnswGraph, type HnswParams } from "./hnsw";
import { TopK, type Scored } from "./top-k";
import { dotRow } from "./vector";

/** What a query can filter on and what an answer shows, per document. */
export interface DocMeta {
  docId: string;
  topic: string | null;
  model: string;
  embeddedTs: number;
}

/** A match inside one shard. */
export interface ShardHit extends DocMeta {
  key: number;
}

export type DocFilter = (meta: DocMeta) => boolean;

const INITIAL_CAPACITY = 256;

/**
 * One shard in memory: its unit vectors packed row by row (the exact scan reads
 * them; deleting moves the last row into the hole so the rows stay dense), their
 * metadata, and an HNSW graph over the same vectors. Every vector has a key,
 * unique across the index and never reused: an upsert gets a new key, so the
 * graph never holds two versions of a document under one key.
 */
export class ShardIndex {
  private vectors: Float32Array;
  private rowKeys: number[] = [];
  private rowMeta: DocMeta[] = [];
  private readonly rowOfKey = new Map<number, number>();
  private readonly keyOfDoc = new Map<string, number>();
  graph: HnswGraph;
  /** Epoch ms of the last change, or null when never changed since start. */
  lastUpdate: number | null = null;
  /** Changed since its graph was last saved. */
  dirty = false;

  constructor(
    readonly id: number,
    readonly dim: number,
    private readonly params: HnswParams,
  ) {
    this.vectors = new Float32Array(INITIAL_CAPACITY * dim);
    this.graph = createGraph(dim, params);
  }

  get count(): number {
    return this.rowKeys.length;
  }

  keyOf(docId: string): number | undefined {
    return this.keyOfDoc.get(docId);
  }

  /** A copy of the unit vector stored under `key`. */
  vectorOf(key: number): Float32Array | undefined {
    const row = this.rowOfKey.get(key);
    return row === undefined ? undefined : this.vectors.slice(row * this.dim, (row + 1) * this.dim);
  }

  metaOf(key: number): DocMeta | undefined {
    const row = this.rowOfKey.get(key);
    return row === undefined ? undefined : this.rowMeta[row];
  }

  /** Every key held, in row order. */
  keys(): BigUint64Array {
    return BigUint64Array.from(this.rowKeys, (k) => BigInt(k));
  }

  /**
   * Store a vector and its metadata without touching the graph: callers add the
   * new keys to the graph in bulk (`addToGraph`), which is several times faster
   * than one insert at a time.
   */
  putRow(key: number, unit: Float32Array, meta: DocMeta): void {
    const previous = this.keyOfDoc.get(meta.docId);
    if (previous !== undefined) this.deleteRow(previous);
    const row = this.rowKeys.length;
    if ((row + 1) * this.dim > this.vectors.length) {
      const grown = new Float32Array(this.vectors.length * 2);
      grown.set(this.vectors);
      this.vectors = grown;
    }
    this.vectors.set(unit, row * this.dim);
    this.rowKeys.push(key);
    this.rowMeta.push(meta);
    this.rowOfKey.set(key, row);
    this.keyOfDoc.set(meta.docId, key);
    this.touch();
  }

  /** Remove a document's vector from the rows and the graph. */
  remove(key: number): void {
    if (!this.rowOfKey.has(key)) return;
    this.deleteRow(key);
    this.touch();
  }

  addToGraph(keys: number[], threads: number): void {
    if (keys.length === 0) return;
    const flat = new Float32Array(keys.length * this.dim);
    keys.forEach((key, i) => flat.set(this.vectors.subarray(...this.rowSpan(key)), i * this.dim));
    this.graph.add(BigUint64Array.from(keys, (k) => BigInt(k)), flat, threads);
  }

  /**
   * Bring a graph loaded from a snapshot up to date with the rows (which come
   * from LMDB, the truth): drop keys the rows no longer hold, add the ones the
   * snapshot missed. Returns how many keys changed.
   */
  restoreGraph(graph: HnswGraph, snapshotKeys: BigUint64Array, threads: number): number {
    const live = new Set(this.rowKeys);
    let changed = 0;
    const inSnapshot = new Set<number>();
    for (const big of snapshotKeys) {
      const key = Number(big);
      inSnapshot.add(key);
      if (!live.has(key)) {
        graph.remove(big);
        changed++;
      }
    }
    this.graph = graph;
    const missing = this.rowKeys.filter((k) => !inSnapshot.has(k));
    this.addToGraph(missing, threads);
    return changed + missing.length;
  }

  /** Rebuild the graph from the rows. */
  rebuildGraph(threads: number): void {
    this.graph = createGraph(this.dim, this.params);
    this.addToGraph(this.rowKeys, threads);
  }

  /**
   * Approximate top `k` by HNSW. With a filter, asks the graph for more
   * candidates than `k` (`oversample`) and keeps those that pass; `complete`
   * says whether the answer can be trusted to hold k matches or all there are.
   */
  searchGraph(q: Float32Array, k: number, filter?: DocFilter, oversample = 1): { hits: Scored<ShardHit>[]; scored: number; complete: boolean } {
    const size = this.count;
    if (size === 0) return { hits: [], scored: 0, complete: true };
    // usearch searches with max(efSearch, wanted) candidates, so a large k stays exact enough.
    const wanted = Math.min(size, Math.max(k, Math.ceil(k * oversample)));
    const { keys, distances } = this.graph.search(q, wanted, 1);
    const hits: Scored<ShardHit>[] = [];
    let scored = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = Number(keys[i]);
      const meta = this.metaOf(key);
      if (!meta) continue;
      scored++;
      if (filter && !filter(meta)) continue;
      hits.push({ item: { ...meta, key }, score: 1 - (distances[i] as number) });
      if (hits.length === k) break;
    }
    return { hits, scored, complete: hits.length >= k || wanted >= size };
  }

  /**
   * Exact top `k` by scanning every row. Without a filter the scan runs in
   * usearch's SIMD kernel; with one, in JS over the rows that pass.
   */
  searchExact(q: Float32Array, k: number, filter?: DocFilter): { hits: Scored<ShardHit>[]; scored: number } {
    const size = this.count;
    if (size === 0) return { hits: [], scored: 0 };
    if (!filter) {
      const { keys, distances } = usearch.exactSearch(this.vectors.subarray(0, size * this.dim), q, this.dim, Math.min(k, size), usearch.MetricKind.IP, 1) as InstanceType<typeof usearch.Matches>;
      const hits = Array.from(keys, (row, i) => this.hitAt(Number(row), 1 - (distances[i] as number)));
      return { hits, scored: size };
    }
    const top = new TopK<ShardHit>(k);
    let scored = 0;
    for (let row = 0; row < size; row++) {
      const meta = this.rowMeta[row] as DocMeta;
      if (!filter(meta)) continue;
      scored++;
      top.push({ ...meta, key: this.rowKeys[row] as number }, dotRow(q, this.vectors, row));
    }
    return { hits: top.sorted(), scored };
  }

  /** Estimated resident bytes: the rows, the graph's own copy of them, and its links. */
  bytes(): number {
    const linkBytes = this.params.connectivity * 2 * 4;
    return this.vectors.byteLength + this.count * (this.dim * 4 + linkBytes);
  }

  private hitAt(row: number, score: number): Scored<ShardHit> {
    return { item: { ...(this.rowMeta[row] as DocMeta), key: this.rowKeys[row] as number }, score };
  }

  private rowSpan(key: number): [number, number] {
    const row = this.rowOfKey.get(key) as number;
    return [row * this.dim, (row + 1) * this.dim];
  }

  private deleteRow(key: number): void {
    const row = this.rowOfKey.get(key) as number;
    const last = this.rowKeys.length - 1;
    const meta = this.rowMeta[row] as DocMeta;
    if (row !== last) {
      const lastKey = this.rowKeys[last] as number;
      this.vectors.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      this.rowKeys[row] = lastKey;
      this.rowMeta[row] = this.rowMeta[last] as DocMeta;
      this.rowOfKey.set(lastKey, row);
    }
    this.rowKeys.pop();
    this.rowMeta.pop();
    this.rowOfKey.delete(key);
    if (this.keyOfDoc.get(meta.docId) === key) this.keyOfDoc.delete(meta.docId);
    if (this.graph.contains(BigInt(key))) this.graph.remove(BigInt(key));
  }

  private touch(): void {
    this.lastUpdate = Date.now();
    this.dirty = true;
  }
}
