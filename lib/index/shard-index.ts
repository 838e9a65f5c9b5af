import usearch from "usearch";
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
 * them; deleting moves the last row into the hole so the rows stay dense) and
 * their metadata. Every vector has a key, unique across the index and never
 * reused: an upsert gets a new key, so the index-wide HNSW graph (held by
 * VectorIndex, over every shard's keys) never holds two versions of a document
 * under one key. Shards are the unit of placement, eviction, statistics and the
 * `shards` query subset; approximate search runs on the one graph.
 */
export class ShardIndex {
  private vectors: Float32Array;
  private rowKeys: number[] = [];
  private rowMeta: DocMeta[] = [];
  private readonly rowOfKey = new Map<number, number>();
  private readonly keyOfDoc = new Map<string, number>();
  /** Epoch ms of the last change, or null when never changed since start. */
  lastUpdate: number | null = null;

  constructor(
    readonly id: number,
    readonly dim: number,
    /** HNSW links per node, for the memory estimate of the shard's share of the graph. */
    private readonly connectivity: number,
  ) {
    this.vectors = new Float32Array(INITIAL_CAPACITY * dim);
  }

  get count(): number {
    return this.rowKeys.length;
  }

  keyOf(docId: string): number | undefined {
    return this.keyOfDoc.get(docId);
  }

  has(key: number): boolean {
    return this.rowOfKey.has(key);
  }

  /** A copy of the unit vector stored under `key`. */
  vectorOf(key: number): Float32Array | undefined {
    const row = this.rowOfKey.get(key);
    return row === undefined ? undefined : this.vectors.slice(row * this.dim, (row + 1) * this.dim);
  }

  /** A view (no copy) of the unit vector stored under `key`; valid until the shard next changes. */
  vectorView(key: number): Float32Array | undefined {
    const row = this.rowOfKey.get(key);
    return row === undefined ? undefined : this.vectors.subarray(row * this.dim, (row + 1) * this.dim);
  }

  metaOf(key: number): DocMeta | undefined {
    const row = this.rowOfKey.get(key);
    return row === undefined ? undefined : this.rowMeta[row];
  }

  /** Every key held, in row order. */
  keys(): readonly number[] {
    return this.rowKeys;
  }

  /**
   * Store a vector and its metadata, replacing the document's previous version.
   * Returns the replaced key, if any (the caller drops it from the graph).
   */
  putRow(key: number, unit: Float32Array, meta: DocMeta): number | undefined {
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
    return previous;
  }

  /** Remove a document's vector from the rows. */
  remove(key: number): void {
    if (!this.rowOfKey.has(key)) return;
    this.deleteRow(key);
    this.touch();
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

  /** Estimated resident bytes: the rows, and the shard's share of the graph (its copy of the vectors and its links). */
  bytes(): number {
    const linkBytes = this.connectivity * 2 * 4;
    return this.vectors.byteLength + this.count * (this.dim * 4 + linkBytes);
  }

  private hitAt(row: number, score: number): Scored<ShardHit> {
    return { item: { ...(this.rowMeta[row] as DocMeta), key: this.rowKeys[row] as number }, score };
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
  }

  private touch(): void {
    this.lastUpdate = Date.now();
  }
}
