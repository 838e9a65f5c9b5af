import usearch from "usearch";
import { TopK, type Scored } from "./top-k";

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

/** What memory keeps of a document when it is put (its doc_id stays in LMDB), with the Kafka partition it was read from (-1 when unknown). */
export type RowMeta = Omit<DocMeta, "docId"> & { partition: number };

/** Where the shards read what memory does not hold: vectors and doc_ids, from LMDB. */
export interface RowSource {
  docIdOf(shard: number, key: number): string | undefined;
  copyVector(key: number, into: Uint8Array, byteOffset: number): boolean;
  /** Bulk read in key order (IndexStore.readVectorsFrom); without it scans read key by key. */
  readVectorsFrom?(fromKey: number, limit: number, into: Uint8Array, keys: Float64Array, accept: (key: number) => boolean): { read: number; n: number; lastKey: number | undefined };
}

const INITIAL_CAPACITY = 256;

/**
 * Rows an exact scan copies from LMDB per native scan: 4,096 × 384 dims × 4
 * bytes = 6 MiB of scratch, reused, large enough that the per-call cost of
 * usearch's SIMD scan is amortised (≈ 1 µs per row either way).
 */
const SCAN_CHUNK = 4096;

/**
 * Vectors a bulk scan (DocTable.scanAll) reads per chunk, between which it
 * yields: 2,048 × ≈ 2 µs (≈ 6 µs on the loaded machine) ≈ 5–15 ms held at a time.
 */
const BULK_CHUNK = 2048;

/** Strings (topics, models) stored once, rows hold their number. */
class Interner {
  private readonly ids = new Map<string | null, number>();
  private readonly values: (string | null)[] = [];

  id(value: string | null): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.push(value) - 1;
      this.ids.set(value, id);
    }
    return id;
  }

  value(id: number): string | null {
    return this.values[id] as string | null;
  }
}

/**
 * A document's metadata as a filter sees it: topic, model and time from the
 * shard's typed arrays; the doc_id read from LMDB only when asked for (a
 * filter on topic, model or time never reads it).
 */
class RowView implements DocMeta {
  constructor(
    private readonly shard: ShardIndex,
    private readonly row: number,
    private readonly table: DocTable,
  ) {}

  get docId(): string {
    return this.table.source.docIdOf(this.shard.id, this.shard.keyAt(this.row)) ?? "";
  }

  get topic(): string | null {
    return this.table.topics.value(this.shard.topicIds[this.row] as number);
  }

  get model(): string {
    return this.table.models.value(this.shard.modelIds[this.row] as number) as string;
  }

  get embeddedTs(): number {
    return this.shard.times[this.row] as number;
  }
}

/**
 * Every document held in memory, in compact typed arrays, one ShardIndex per
 * shard, and one map from key to (shard, row). No vector is kept here: the
 * HNSW graph holds its own (quantized) copy for approximate search, and exact
 * scans read LMDB's f32 vectors without decoding them (see ShardIndex.searchExact).
 * About 22 bytes per document in the arrays plus the map's entry.
 */
export class DocTable {
  readonly shards: ShardIndex[];
  /** key → row × 2^16 + shard id (shard counts are at most 4096). */
  private readonly where = new Map<number, number>();
  readonly topics = new Interner();
  readonly models = new Interner();

  constructor(
    shardCount: number,
    readonly dim: number,
    connectivity: number,
    readonly source: RowSource,
    /**
     * Partitions being released (VectorIndex.releasePartition): their documents
     * stay in memory until the release reaches them but are left out of every
     * answer (graph hits, exact scans, lookups by doc_id).
     */
    readonly hidden: ReadonlySet<number> = new Set(),
  ) {
    this.shards = Array.from({ length: shardCount }, (_, id) => new ShardIndex(id, dim, connectivity, this));
  }

  get size(): number {
    return this.where.size;
  }

  has(key: number): boolean {
    return this.where.has(key);
  }

  /** The shard and row of `key`, or undefined. */
  find(key: number): { shard: ShardIndex; row: number } | undefined {
    const packed = this.where.get(key);
    if (packed === undefined) return undefined;
    return { shard: this.shards[packed % 65536] as ShardIndex, row: Math.floor(packed / 65536) };
  }

  /** Documents held per Kafka partition (for how many answers leave out while a partition is released). */
  private readonly perPartition = new Map<number, number>();

  /** Documents of partitions being released still held (left out of answers). */
  get hiddenCount(): number {
    let n = 0;
    for (const p of this.hidden) n += this.perPartition.get(p) ?? 0;
    return n;
  }

  /** True when `key` belongs to a partition being released (left out of answers). */
  isHidden(key: number): boolean {
    if (this.hidden.size === 0) return false;
    const at = this.find(key);
    return at !== undefined && this.hidden.has(at.shard.partitionAt(at.row));
  }

  /** Metadata of a key, or undefined when not held. */
  meta(key: number): DocMeta | undefined {
    const at = this.find(key);
    return at && new RowView(at.shard, at.row, this);
  }

  /** A hit for an answer: the metadata resolved, doc_id included. */
  hit(key: number): ShardHit | undefined {
    const at = this.find(key);
    return at && at.shard.hitAt(at.row);
  }

  put(shard: number, key: number, meta: RowMeta): void {
    const s = this.shards[shard] as ShardIndex;
    const row = s.push(key, this.topics.id(meta.topic), this.models.id(meta.model), meta.embeddedTs, meta.partition);
    this.where.set(key, row * 65536 + shard);
    this.perPartition.set(meta.partition, (this.perPartition.get(meta.partition) ?? 0) + 1);
  }

  remove(key: number): void {
    const at = this.find(key);
    if (!at) return;
    this.where.delete(key);
    const partition = at.shard.partitionAt(at.row);
    const left = (this.perPartition.get(partition) ?? 0) - 1;
    if (left > 0) this.perPartition.set(partition, left);
    else this.perPartition.delete(partition);
    const moved = at.shard.removeRow(at.row);
    if (moved !== undefined) this.where.set(moved, at.row * 65536 + at.shard.id);
  }

  /** Every key held. */
  *keys(): Generator<number> {
    yield* this.where.keys();
  }

  /**
   * Exact top `k` over every shard, reading LMDB's vectors in key order with
   * one cursor, SCAN_CHUNK at a time, into the scan buffer (no per-key
   * lookup: ≈ 2 µs a vector against ≈ 4–6 µs reading each shard's keys one by
   * one, which are 1 in 32 of the keys and so land on scattered pages), each
   * chunk of BULK_CHUNK scored by usearch's SIMD kernel. Yields after each chunk;
   * a document changed meanwhile is read as it is when its key comes up.
   * Undefined when the source cannot read in bulk.
   */
  scanAll(q: Float32Array, k: number): Generator<void, { hits: Scored<ShardHit>[]; scored: number }> | undefined {
    const source = this.source;
    if (!source.readVectorsFrom) return undefined;
    const read = source.readVectorsFrom.bind(source);
    return function* (this: DocTable) {
      const dim = this.dim;
      const buf = scanBuffer(dim);
      const bytes = new Uint8Array(buf.buffer);
      const keys = new Float64Array(BULK_CHUNK);
      const top = new TopK<number>(k);
      const accept = (key: number) => {
        const packed = this.where.get(key);
        if (packed === undefined) return false;
        return this.hidden.size === 0 || !this.hidden.has((this.shards[packed % 65536] as ShardIndex).partitionAt(Math.floor(packed / 65536)));
      };
      let scored = 0;
      for (let from = 0; ; ) {
        const chunk = read(from, BULK_CHUNK, bytes, keys, accept);
        if (chunk.n > 0) {
          const m = usearch.exactSearch(buf.subarray(0, chunk.n * dim), q, dim, Math.min(k, chunk.n), usearch.MetricKind.IP, 1) as InstanceType<typeof usearch.Matches>;
          for (let i = 0; i < m.keys.length; i++) top.push(keys[Number(m.keys[i])] as number, 1 - (m.distances[i] as number));
          scored += chunk.n;
        }
        if (chunk.read < BULK_CHUNK || chunk.lastKey === undefined) break;
        from = chunk.lastKey + 1;
        yield;
      }
      const hits: Scored<ShardHit>[] = [];
      for (const { item: key, score } of top.sorted()) {
        const hit = this.hit(key);
        if (hit) hits.push({ item: hit, score });
      }
      return { hits, scored };
    }.call(this);
  }

  /** @internal the doc_id of a row, from LMDB. */
  docIdAt(shard: ShardIndex, row: number): string {
    return this.source.docIdOf(shard.id, shard.keyAt(row)) ?? "";
  }
}

/** Scratch rows of exact scans, per dimension (one scan runs at a time on the thread). */
const scratch = new Map<number, Float32Array>();
function scanBuffer(dim: number): Float32Array {
  let buf = scratch.get(dim);
  if (!buf) scratch.set(dim, (buf = new Float32Array(SCAN_CHUNK * dim)));
  return buf;
}

/**
 * One shard in memory: its documents' keys and what filters read (topic and
 * model as interned numbers, embedded time), row by row; deleting moves the
 * last row into the hole so the rows stay dense. Every vector has a key, unique
 * across the index and never reused: an upsert gets a new key, so the
 * index-wide HNSW graph never holds two versions of a document under one key.
 * Shards are the unit of placement, eviction, statistics and the `shards`
 * query subset; approximate search runs on the one graph.
 */
export class ShardIndex {
  private rowKeys: Float64Array;
  /** @internal */ topicIds: Uint32Array;
  /** @internal */ modelIds: Uint16Array;
  /** @internal */ times: Float64Array;
  /** @internal the Kafka partition each row was read from (-1 when unknown). */ partitions: Int32Array;
  private size = 0;
  /** Epoch ms of the last change, or null when never changed since start. */
  lastUpdate: number | null = null;

  constructor(
    readonly id: number,
    readonly dim: number,
    /** HNSW links per node, for the memory estimate of the shard's share of the graph. */
    private readonly connectivity: number,
    private readonly table: DocTable,
  ) {
    this.rowKeys = new Float64Array(INITIAL_CAPACITY);
    this.topicIds = new Uint32Array(INITIAL_CAPACITY);
    this.modelIds = new Uint16Array(INITIAL_CAPACITY);
    this.times = new Float64Array(INITIAL_CAPACITY);
    this.partitions = new Int32Array(INITIAL_CAPACITY);
  }

  get count(): number {
    return this.size;
  }

  /** @internal */
  keyAt(row: number): number {
    return this.rowKeys[row] as number;
  }

  /** @internal */
  partitionAt(row: number): number {
    return this.partitions[row] as number;
  }

  /** Every key held, in row order. */
  keys(): Float64Array {
    return this.rowKeys.subarray(0, this.size);
  }

  /** @internal append a row; returns its number. */
  push(key: number, topic: number, model: number, embeddedTs: number, partition: number): number {
    if (this.size === this.rowKeys.length) this.grow();
    const row = this.size++;
    this.rowKeys[row] = key;
    this.topicIds[row] = topic;
    this.modelIds[row] = model;
    this.times[row] = embeddedTs;
    this.partitions[row] = partition;
    this.touch();
    return row;
  }

  /** @internal remove a row, moving the last into its place; returns the moved key, if any. */
  removeRow(row: number): number | undefined {
    const last = --this.size;
    this.touch();
    if (row === last) return undefined;
    this.rowKeys[row] = this.rowKeys[last] as number;
    this.topicIds[row] = this.topicIds[last] as number;
    this.modelIds[row] = this.modelIds[last] as number;
    this.times[row] = this.times[last] as number;
    this.partitions[row] = this.partitions[last] as number;
    return this.rowKeys[row];
  }

  /** @internal a row as an answer's hit (its doc_id read from LMDB). */
  hitAt(row: number): ShardHit {
    const t = this.table;
    return { docId: t.docIdAt(this, row), topic: t.topics.value(this.topicIds[row] as number), model: t.models.value(this.modelIds[row] as number) as string, embeddedTs: this.times[row] as number, key: this.rowKeys[row] as number };
  }

  /**
   * Exact top `k` of the rows passing `filter`: their f32 vectors are copied
   * from LMDB (no decoding) in chunks of SCAN_CHUNK rows and scanned by
   * usearch's SIMD kernel. Memory holds no vector: the pages read stay in the
   * kernel's page cache (file-backed, reclaimable), not on the heap.
   */
  searchExact(q: Float32Array, k: number, filter?: DocFilter): { hits: Scored<ShardHit>[]; scored: number } {
    const size = this.size;
    if (size === 0) return { hits: [], scored: 0 };
    const dim = this.dim;
    const buf = scanBuffer(dim);
    const bytes = new Uint8Array(buf.buffer);
    const rowsOf = new Int32Array(SCAN_CHUNK);
    const top = new TopK<number>(k);
    let scored = 0;
    let n = 0;
    const flush = () => {
      if (n === 0) return;
      const m = usearch.exactSearch(buf.subarray(0, n * dim), q, dim, Math.min(k, n), usearch.MetricKind.IP, 1) as InstanceType<typeof usearch.Matches>;
      for (let i = 0; i < m.keys.length; i++) top.push(rowsOf[Number(m.keys[i])] as number, 1 - (m.distances[i] as number));
      n = 0;
    };
    const hidden = this.table.hidden;
    for (let row = 0; row < size; row++) {
      if (hidden.size > 0 && hidden.has(this.partitions[row] as number)) continue;
      if (filter && !filter(new RowView(this, row, this.table))) continue;
      if (!this.table.source.copyVector(this.rowKeys[row] as number, bytes, n * dim * 4)) continue;
      rowsOf[n++] = row;
      scored++;
      if (n === SCAN_CHUNK) flush();
    }
    flush();
    return { hits: top.sorted().map(({ item: row, score }) => ({ item: this.hitAt(row), score })), scored };
  }

  /**
   * Exact top `k` keys of each of several unit queries (`queries` row-major) in
   * one pass over the shard: every vector is read from LMDB once, whatever the
   * number of queries (the recall monitor's samples).
   */
  searchExactMany(queries: Float32Array, k: number): Scored<number>[][] {
    const dim = this.dim;
    const nq = queries.length / dim;
    const tops = Array.from({ length: nq }, () => new TopK<number>(k));
    const buf = scanBuffer(dim);
    const bytes = new Uint8Array(buf.buffer);
    const rowsOf = new Int32Array(SCAN_CHUNK);
    let n = 0;
    const flush = () => {
      if (n === 0) return;
      const m = usearch.exactSearch(buf.subarray(0, n * dim), queries, dim, Math.min(k, n), usearch.MetricKind.IP, 1);
      const batch = (nq === 1 ? { get: () => m } : m) as { get(i: number): InstanceType<typeof usearch.Matches> };
      for (let qi = 0; qi < nq; qi++) {
        const { keys, distances } = batch.get(qi);
        for (let i = 0; i < keys.length; i++) (tops[qi] as TopK<number>).push(this.rowKeys[rowsOf[Number(keys[i])] as number] as number, 1 - (distances[i] as number));
      }
      n = 0;
    };
    const hidden = this.table.hidden;
    for (let row = 0; row < this.size; row++) {
      if (hidden.size > 0 && hidden.has(this.partitions[row] as number)) continue;
      if (!this.table.source.copyVector(this.rowKeys[row] as number, bytes, n * dim * 4)) continue;
      rowsOf[n++] = row;
      if (n === SCAN_CHUNK) flush();
    }
    flush();
    return tops.map((t) => t.sorted());
  }

  /** Estimated resident bytes: the rows' arrays and map entry, and the shard's share of the graph (its vectors at `vectorBytes` each, and its links). */
  bytes(vectorBytes = this.dim * 4): number {
    const linkBytes = this.connectivity * 2 * 4;
    const rowBytes = 8 + 4 + 2 + 8 + 4 + 40;
    return this.count * (rowBytes + vectorBytes + linkBytes);
  }

  private grow(): void {
    const cap = this.rowKeys.length * 2;
    const grown = <T extends Float64Array | Uint32Array | Uint16Array | Int32Array>(a: T, make: new (n: number) => T) => {
      const b = new make(cap);
      b.set(a);
      return b;
    };
    this.rowKeys = grown(this.rowKeys, Float64Array);
    this.topicIds = grown(this.topicIds, Uint32Array);
    this.modelIds = grown(this.modelIds, Uint16Array);
    this.times = grown(this.times, Float64Array);
    this.partitions = grown(this.partitions, Int32Array);
  }

  private touch(): void {
    this.lastUpdate = Date.now();
  }
}
