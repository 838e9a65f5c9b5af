import { open, type Database, type RootDatabase, type TransactionFlags } from "lmdb";
import { sha256Hex } from "../records/sha256";
import type { StoredTextFields } from "./stored-text";

/**
 * A document as LMDB keeps it (its vector lives in `vectors` under `key`).
 * The text fields (stored-text.ts: the first 300 code points, whether they
 * were cut, the full length) are absent from rows written before texts were
 * kept: such rows keep working and answer `text_stored: false` until the
 * index is rebuilt from the topic.
 */
export interface DocRow extends Partial<StoredTextFields> {
  key: number;
  shard: number;
  topic: string | null;
  model: string;
  kafka_ts: number | null;
  embedded_ts: number;
  dim: number;
  /** L2 norm of the vector as received; the stored vector is unit length. */
  norm: number;
  /** The embedding record said the vector was already unit length. */
  unit: boolean;
  /** The Kafka partition of the index's topic (EMBED_OUTPUT_TOPIC) the document was read from (see `release`). */
  partition: number;
}

/** A row of a long doc_id, stored under its hash: the full doc_id is kept in the value. */
type LongDocRow = DocRow & { docId: string };

/**
 * Longest doc_id (UTF-8 bytes) stored under its own text as the LMDB key.
 * LMDB refuses keys over 1,978 bytes (lmdb-js' compiled-in limit) and
 * ordered-binary may add a byte or, for short strings, escape control
 * characters to two bytes; 960 stays under the limit whatever the characters.
 * Longer ids are keyed by their SHA-256 in a database of their own.
 */
export const DOC_KEY_MAX_BYTES = 960;

/** True when `docId` is stored under its own text (`docs`), false when under its hash (`longdocs`). */
export const isShortDocId = (docId: string) => Buffer.byteLength(docId, "utf8") <= DOC_KEY_MAX_BYTES;

/**
 * What memory keeps of a document (search filters and answers), stored beside
 * its recency key. The partition is absent from entries written before it was
 * kept there (a start then reads it from `bypartition`).
 */
export type RecencyEntry = [docId: string, topic: string | null, model: string, embeddedTs: number, partition?: number];

/** A document as a start loads it into memory. */
export interface LiveDoc {
  shard: number;
  key: number;
  docId: string;
  topic: string | null;
  model: string;
  embeddedTs: number;
  /** The Kafka partition of the index's topic it was read from (-1 when unknown). */
  partition: number;
}

/** One change a batch makes, in the order it was made. */
export type Change =
  | { kind: "put"; docId: string; row: DocRow; vector: Float32Array; replacedKey: number | undefined }
  | { kind: "evict"; docId: string; shard: number; key: number };

/**
 * Layout of the store's databases. 2: rows remember their partition and
 * `bypartition` lists them. A store of an older layout that holds documents is
 * emptied at open (VectorIndex.open) and rebuilt from the topic, the truth.
 */
export const STORE_LAYOUT = 2;

/** lmdb-js transaction flags: abortable (1), committed before returning (2), flushed to disk later (NO_SYNC_FLUSH 0x10000). */
const RELEASE_STEP_FLAGS = 0x10003 as TransactionFlags;

/**
 * The index's source of truth, in one LMDB environment:
 * - `docs`     doc_id → DocRow, for doc_ids of at most DOC_KEY_MAX_BYTES
 * - `longdocs` sha256(doc_id) as hex → DocRow + the full doc_id, for longer
 *              ids (LMDB's key limit is ~1,978 bytes). A separate database, so
 *              no real short doc_id can ever be mistaken for a hash. Directories
 *              written before it existed keep working without a rebuild: their
 *              short ids are where they always were, the database is created
 *              empty on first open, and an id between DOC_KEY_MAX_BYTES and
 *              LMDB's limit that an older version stored in `docs` is still
 *              found there (`legacyDoc`) and moves to `longdocs` when next written.
 * - `vectors`  key → unit vector (f32 bytes)
 * - `recency`  [shard, key] → [doc_id, topic, model, embedded_ts] (RecencyEntry:
 *              what memory keeps of a document, so a start reads these small
 *              entries and never the rows with their texts); keys only grow, so the first entry of a
 *              shard is its oldest document (eviction) and the last its newest
 * - `offsets`  [topic, partition] → next Kafka offset to apply
 * - `bypartition` [topic, partition, key] → doc_id: the documents read from each
 *              partition of the index's topic, so a partition this indexer no
 *              longer owns is released in one range (`release`)
 * - `meta`     "dim" (the index's dimension), "model" (the model whose vectors it
 *              holds: set with "dim" by the first batch; an index written before
 *              it was kept gets it from its documents at open), "shards" (the
 *              shard count it was built with), "nextKey", "layout" (STORE_LAYOUT)
 * A batch's documents, evictions and the offset after it are written in one
 * transaction, so after a crash the store holds exactly the records before the
 * stored offset: resuming there neither loses nor applies anything twice.
 */
export class IndexStore {
  private readonly root: RootDatabase;
  private readonly docs: Database<DocRow, string>;
  private readonly longDocs: Database<LongDocRow, string>;
  private readonly vectors: Database<Buffer, number>;
  /**
   * The same `vectors` database read by range with a decoder that copies each
   * value straight into `bulkInto` at `bulkAt` (lmdb-js' binary encoding would
   * allocate a Buffer per value): `readVectorsFrom`.
   */
  private readonly vectorsBulk: Database<number, number>;
  private bulkInto: Uint8Array = new Uint8Array(0);
  private bulkAt = 0;
  private readonly recency: Database<RecencyEntry, [number, number]>;
  private readonly offsets: Database<number, [string, number]>;
  private readonly byPartition: Database<string, [string, number, number]>;
  private readonly meta: Database<number | string, string>;

  constructor(dir: string) {
    // Vectors do not compress; LMDB's own compression would only cost CPU.
    this.root = open({ path: dir, maxDbs: 8, compression: false });
    this.docs = this.root.openDB({ name: "docs" });
    this.longDocs = this.root.openDB({ name: "longdocs" });
    this.vectors = this.root.openDB({ name: "vectors", encoding: "binary" });
    const decode = (bytes: Uint8Array, size: number) => {
      this.bulkInto.set(bytes.subarray(0, size), this.bulkAt);
      return size;
    };
    // Never written through (encode is there because lmdb-js wants one).
    const bulk = { name: "vectors", encoder: { encode: (v: unknown) => v, decode } };
    this.vectorsBulk = this.root.openDB<number, number>(bulk as { name: string });
    this.recency = this.root.openDB({ name: "recency" });
    this.offsets = this.root.openDB({ name: "offsets" });
    this.byPartition = this.root.openDB({ name: "bypartition" });
    this.meta = this.root.openDB({ name: "meta" });
  }

  get dim(): number | undefined {
    return this.meta.get("dim") as number | undefined;
  }

  /** The model whose vectors the index holds, as its first record named it; undefined when empty or written before it was kept. */
  get model(): string | undefined {
    return this.meta.get("model") as string | undefined;
  }

  /** Record the model of an index that holds vectors but not its model's name (written before it was kept). */
  claimModel(model: string): void {
    if (this.model === undefined) this.meta.putSync("model", model);
  }

  get shards(): number | undefined {
    return this.meta.get("shards") as number | undefined;
  }

  /** Record the shard count on first use; documents are placed by it, so it cannot change later. */
  claimShards(shards: number): void {
    if (this.shards === undefined) this.meta.putSync("shards", shards);
  }

  /** The layout the store was written with (STORE_LAYOUT); 1 for a store written before layouts were kept. */
  get layout(): number {
    return (this.meta.get("layout") as number | undefined) ?? 1;
  }

  /** True when the store holds no document and no offset (a new directory). */
  get isEmpty(): boolean {
    return this.meta.get("dim") === undefined && this.offsets.getKeysCount() === 0;
  }

  /** Record that the store is written with STORE_LAYOUT (on a new or just emptied store). */
  claimLayout(): void {
    if (this.meta.get("layout") !== STORE_LAYOUT) this.meta.putSync("layout", STORE_LAYOUT);
  }

  /**
   * Drop every document, vector, offset and the dimension and model (the shard
   * count and key counter stay): the index is then rebuilt from the topic.
   */
  clear(): void {
    this.root.transactionSync(() => {
      for (const db of [this.docs, this.longDocs, this.vectors, this.recency, this.offsets, this.byPartition]) db.clearSync();
      this.meta.removeSync("dim");
      this.meta.removeSync("model");
    });
  }

  get nextKey(): number {
    return (this.meta.get("nextKey") as number | undefined) ?? 1;
  }

  nextOffset(topic: string, partition: number): number | undefined {
    return this.offsets.get([topic, partition]);
  }

  doc(docId: string): DocRow | undefined {
    if (isShortDocId(docId)) return this.docs.get(docId);
    const row = this.longDocs.get(sha256Hex(docId));
    // A different id under the same SHA-256 would need a collision; checked anyway.
    if (!row) return this.legacyDoc(docId);
    const { docId: stored, ...rest } = row;
    return stored === docId ? rest : undefined;
  }

  /** A long id an older version stored under its text (it fit LMDB's limit); undefined when it cannot be a key there. */
  private legacyDoc(docId: string): DocRow | undefined {
    try {
      return this.docs.get(docId);
    } catch {
      return undefined; // over LMDB's key limit: never stored that way
    }
  }

  private putDoc(docId: string, row: DocRow): void {
    if (isShortDocId(docId)) {
      this.docs.putSync(docId, row);
      return;
    }
    if (this.legacyDoc(docId)) this.docs.removeSync(docId);
    this.longDocs.putSync(sha256Hex(docId), { ...row, docId });
  }

  private removeDoc(docId: string): void {
    if (isShortDocId(docId)) {
      this.docs.removeSync(docId);
      return;
    }
    this.longDocs.removeSync(sha256Hex(docId));
    if (this.legacyDoc(docId)) this.docs.removeSync(docId);
  }

  vector(key: number): Float32Array | undefined {
    const buf = this.vectors.get(key);
    return buf ? new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)) : undefined;
  }

  /** Every document of `shard`, oldest first. */
  *shardDocs(shard: number): Generator<{ docId: string; row: DocRow; vector: Float32Array }> {
    for (const { value: [docId] } of this.recency.getRange({ start: [shard, 0], end: [shard + 1, 0] })) {
      const row = this.doc(docId);
      const vector = row && this.vector(row.key);
      if (row && vector) yield { docId, row, vector };
    }
  }

  /** The newest `n` doc_ids of `shard`, newest first. */
  newestDocIds(shard: number, n: number): string[] {
    return [...this.recency.getRange({ start: [shard + 1, 0], end: [shard, 0], reverse: true, limit: n })].map((e) => e.value[0]);
  }

  /** Every document held, shard by shard and oldest first, as memory keeps it: reads the small recency entries only. */
  *liveDocs(): Generator<LiveDoc> {
    let partitionOf: Map<number, number> | undefined;
    for (const { key, value } of this.recency.getRange({})) {
      const [shard, docKey] = key as [number, number];
      let partition = value[4];
      if (partition === undefined) {
        // An entry written before recency kept the partition: read them all from `bypartition` once.
        partitionOf ??= new Map([...this.byPartition.getKeys({})].map((k) => [(k as [string, number, number])[2], (k as [string, number, number])[1]]));
        partition = partitionOf.get(docKey) ?? -1;
      }
      yield { shard, key: docKey, docId: value[0], topic: value[1], model: value[2], embeddedTs: value[3], partition };
    }
  }

  /** The doc_id stored under `key` in `shard`, or undefined when gone. */
  docIdOf(shard: number, key: number): string | undefined {
    return this.recency.get([shard, key])?.[0];
  }

  /**
   * Copy the f32 bytes of the vector under `key` into `into` at `byteOffset`
   * without decoding it (LMDB's zero-copy read; its buffer is reused by the
   * next read). False when the key holds no vector.
   */
  copyVector(key: number, into: Uint8Array, byteOffset: number): boolean {
    const buf = this.vectors.getBinaryFast(key);
    if (!buf) return false;
    // The buffer is a window on lmdb-js' shared one: its `length` is the value's, its backing store larger.
    into.set(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), byteOffset);
    return true;
  }

  /**
   * Copy the vectors of up to `limit` keys from `fromKey` on, in key order (one
   * LMDB cursor, no per-key lookup), into `into`, one after the other; a key
   * `accept` refuses is read and then overwritten by the next. Returns the
   * accepted keys in `keys` and how many (`n`), how many were read (fewer
   * than `limit`: the scan is over) and the last key read.
   */
  readVectorsFrom(fromKey: number, limit: number, into: Uint8Array, keys: Float64Array, accept: (key: number) => boolean): { read: number; n: number; lastKey: number | undefined } {
    this.bulkInto = into;
    this.bulkAt = 0;
    let n = 0;
    let read = 0;
    let lastKey: number | undefined;
    try {
      for (const { key, value: size } of this.vectorsBulk.getRange({ start: fromKey, limit })) {
        lastKey = key as number;
        read++;
        if (!accept(lastKey)) continue;
        keys[n++] = lastKey;
        this.bulkAt += size;
      }
    } finally {
      this.bulkInto = new Uint8Array(0);
    }
    return { read, n, lastKey };
  }

  /**
   * Apply one Kafka batch in one transaction: upsert every record (latest wins;
   * each version gets a fresh key), evict the oldest documents of any shard
   * over `maxIdsPerShard` (0 = unlimited), set the dimension and the model on
   * first use and store the offset after the batch. Returns the changes in order, for the
   * in-memory shards to follow.
   */
  applyBatch(args: {
    topic: string;
    partition: number;
    nextOffset: number;
    dim: number;
    /** The model of the batch's vectors (the caller lets in one model only). */
    model: string;
    puts: { docId: string; row: Omit<DocRow, "key" | "partition">; vector: Float32Array }[];
    maxIdsPerShard: number;
    shardCount: (shard: number) => number;
  }): Change[] {
    return this.root.transactionSync(() => {
      const changes: Change[] = [];
      let nextKey = this.nextKey;
      const growth = new Map<number, number>();
      for (const put of args.puts) {
        const previous = this.doc(put.docId);
        if (previous) {
          this.vectors.removeSync(previous.key);
          this.recency.removeSync([previous.shard, previous.key]);
          this.byPartition.removeSync([args.topic, previous.partition, previous.key]);
        } else {
          growth.set(put.row.shard, (growth.get(put.row.shard) ?? 0) + 1);
        }
        const row: DocRow = { ...put.row, partition: args.partition, key: nextKey++ };
        this.putDoc(put.docId, row);
        this.byPartition.putSync([args.topic, args.partition, row.key], put.docId);
        this.vectors.putSync(row.key, Buffer.from(put.vector.buffer, put.vector.byteOffset, put.vector.byteLength));
        this.recency.putSync([row.shard, row.key], [put.docId, row.topic, row.model, row.embedded_ts, args.partition]);
        changes.push({ kind: "put", docId: put.docId, row, vector: put.vector, replacedKey: previous?.key });
      }
      if (args.maxIdsPerShard > 0) {
        for (const [shard, added] of growth) {
          const excess = args.shardCount(shard) + added - args.maxIdsPerShard;
          if (excess > 0) changes.push(...this.evictOldest(args.topic, shard, excess));
        }
      }
      this.meta.putSync("nextKey", nextKey);
      if (this.dim === undefined) this.meta.putSync("dim", args.dim);
      if (this.model === undefined) this.meta.putSync("model", args.model);
      this.offsets.putSync([args.topic, args.partition], args.nextOffset);
      return changes;
    });
  }

  /**
   * Remove every document read from `partition` of `topic` (rows, vectors,
   * recency) and its stored offset, in one transaction. Returns the evictions,
   * for the in-memory shards to follow. Holds the thread for the whole
   * partition: the indexer releases in steps (`beginRelease`, `releaseChunk`).
   */
  release(topic: string, partition: number): Change[] {
    return this.root.transactionSync(() => {
      this.offsets.removeSync([topic, partition]);
      const changes: Change[] = [];
      for (;;) {
        const chunk = this.releaseChunkIn(topic, partition, 4096);
        changes.push(...chunk.changes);
        if (chunk.done) return changes;
      }
    });
  }

  /**
   * First step of a release in steps: remove the partition's stored offset.
   * From then on, a partition with documents and no stored offset is one whose
   * release has not finished (`unfinishedReleases`): an offset is only ever
   * written with a batch (or alone), never removed otherwise.
   */
  beginRelease(topic: string, partition: number): void {
    this.offsets.removeSync([topic, partition]);
  }

  /**
   * Remove up to `limit` documents of a partition being released, in one
   * transaction. `done` when none is left.
   */
  releaseChunk(topic: string, partition: number, limit: number): { changes: Change[]; done: boolean } {
    // Committed before returning, flushed to disk afterwards (NO_SYNC_FLUSH): a step's fsync does not hold the
    // event loop. A crash may lose the last steps' removals, never half of one: the release then redoes them.
    return this.root.transactionSync(() => this.releaseChunkIn(topic, partition, limit), RELEASE_STEP_FLAGS);
  }

  private releaseChunkIn(topic: string, partition: number, limit: number): { changes: Change[]; done: boolean } {
    const entries = [...this.byPartition.getRange({ start: [topic, partition, 0], end: [topic, partition + 1, 0], limit })];
    const changes: Change[] = [];
    for (const { key, value: docId } of entries) {
      const docKey = (key as [string, number, number])[2];
      this.byPartition.removeSync(key as [string, number, number]);
      const row = this.doc(docId);
      // Only the version read from this partition goes (a later one from another partition would be under another key).
      if (!row || row.key !== docKey) continue;
      this.vectors.removeSync(row.key);
      this.recency.removeSync([row.shard, row.key]);
      this.removeDoc(docId);
      changes.push({ kind: "evict", docId, shard: row.shard, key: row.key });
    }
    return { changes, done: entries.length < limit };
  }

  /**
   * Partitions (of any topic) whose release started and did not finish (the
   * process stopped mid-way): documents left and no stored offset.
   */
  unfinishedReleases(): { topic: string; partition: number }[] {
    const out: { topic: string; partition: number }[] = [];
    for (let from: [string, number, number] | undefined = undefined; ; ) {
      const [first] = [...this.byPartition.getKeys({ start: from, limit: 1 })] as [string, number, number][];
      if (!first) return out;
      const [topic, partition] = first;
      if (this.offsets.get([topic, partition]) === undefined) out.push({ topic, partition });
      from = [topic, partition + 1, 0];
    }
  }

  /** Partitions of `topic` with documents or a stored offset, ascending. */
  partitionsHeld(topic: string): number[] {
    const held = new Set<number>();
    const end = Number.MAX_SAFE_INTEGER;
    for (const key of this.offsets.getKeys({ start: [topic, 0], end: [topic, end] })) held.add((key as [string, number])[1]);
    // One seek per partition held: skip from each partition's first entry to the next partition.
    for (let from = 0; ; ) {
      const [first] = [...this.byPartition.getKeys({ start: [topic, from, 0], end: [topic, end, 0], limit: 1 })] as [string, number, number][];
      if (!first) break;
      held.add(first[1]);
      from = first[1] + 1;
    }
    return [...held].sort((a, b) => a - b);
  }

  /** Store the offset after a batch that changed no document (every record refused or invalid). */
  advanceOffset(topic: string, partition: number, nextOffset: number): void {
    this.offsets.putSync([topic, partition], nextOffset);
  }

  async close(): Promise<void> {
    await this.root.close();
  }

  private evictOldest(topic: string, shard: number, n: number): Change[] {
    const oldest = [...this.recency.getRange({ start: [shard, 0], end: [shard + 1, 0], limit: n })];
    return oldest.map(({ key, value: [docId] }) => {
      const recencyKey = key as [number, number];
      this.recency.removeSync(recencyKey);
      this.vectors.removeSync(recencyKey[1]);
      const row = this.doc(docId);
      if (row?.partition !== undefined) this.byPartition.removeSync([topic, row.partition, row.key]);
      this.removeDoc(docId);
      return { kind: "evict", docId, shard, key: recencyKey[1] };
    });
  }
}
