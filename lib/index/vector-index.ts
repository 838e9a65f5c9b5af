import { availableParallelism } from "node:os";
import path from "node:path";
import { sameModel } from "../embedding/model-identity";
import type { EmbeddingRecord } from "../records/embedding-record";
import { shardOf } from "../records/shard";
import { rmSync } from "node:fs";
import { IndexGraph, type VectorReader } from "./graph";
import { DEFAULT_QUANTIZATION, GraphSnapshots, vectorBytes, type HnswParams, type Quantization } from "./hnsw";
import { DocTable, type DocMeta, type ShardIndex } from "./shard-index";
import { IndexStore, STORE_LAYOUT, type Change, type DocRow } from "./store";
import { answerText, storedTextOf, type AnswerText } from "./stored-text";
import { toUnit } from "./vector";

export interface IndexOptions {
  dir: string;
  shards: number;
  /** Newest documents kept per shard; 0 = unlimited. */
  maxIdsPerShard: number;
  hnsw: HnswParams;
}

/** A record read from Kafka at `offset`. */
export interface IncomingRecord {
  offset: number;
  record: EmbeddingRecord;
}

/** What a batch will change; nothing is changed until `commit`. */
export interface BatchPlan {
  topic: string;
  partition: number;
  nextOffset: number;
  puts: PlannedPut[];
  /** Records at offsets this index had already applied (Kafka re-sent them after a crash). */
  alreadyApplied: number;
  /** Records of another model or dimension than the index's, left out (the emb-indexer dead-letters them before they get here). */
  refused: { docId: string; dim: number; model: string }[];
  /** Records with a zero vector (no direction, no cosine), left out. */
  zeroVectors: number;
  /** The whole batch was applied before. */
  stale: boolean;
}

export interface PlannedPut {
  docId: string;
  row: Omit<DocRow, "key">;
  /** Unit length. */
  vector: Float32Array;
}

export interface ApplyResult {
  inserted: number;
  updated: number;
  evicted: number;
  /** What changed, in order. */
  changes: Change[];
}

export interface OpenReport {
  docs: number;
  /**
   * Where the HNSW graph came from: `restored` from its snapshot (with what it
   * missed replayed), `rebuilt` from LMDB (no usable snapshot), `empty` (no documents).
   */
  graph: "restored" | "rebuilt" | "empty";
  /** How the graph stores vectors (INDEX_QUANTIZATION). */
  quantization: Quantization;
  /** Why a saved graph was not used: `params` (saved with another INDEX_QUANTIZATION, connectivity, efAdd or dimension), or null. */
  snapshotUnusable: "params" | null;
  /** Keys added to or dropped from a restored graph to match LMDB. */
  replayedKeys: number;
  ms: number;
  /** The model whose vectors the index holds (see IndexModel). */
  model: IndexModel;
  /**
   * Documents indexed before texts were kept. Always 0 now: such indexes
   * predate layout 2 and are emptied at open (`emptied`); kept for the
   * indexer's start log.
   */
  withoutTexts: number;
  /**
   * Why the index was emptied at open, to be rebuilt from the topic, or null:
   * `no-partitions` (written before rows remembered their Kafka partition, so
   * a partition could not be released when another indexer takes it over).
   */
  emptied: "no-partitions" | null;
}

/**
 * Which model's vectors an index holds: `stored` in its meta (every index
 * written since models were kept), `records` read from its documents (an index
 * written before: now stored), `unknown` (written before, and its documents
 * name no model or several — listed in `models`), or `empty`.
 */
export type IndexModel =
  | { source: "stored"; name: string; models: string[] }
  | { source: "records"; name: string; models: string[] }
  | { source: "unknown"; name: undefined; models: string[] }
  | { source: "empty"; name: undefined; models: string[] };

/** Options of a release in steps (`releasePartition`). */
export interface ReleaseOptions {
  /** Aim for each step (an LMDB transaction and the graph's removals) to hold the thread about this long. Default 10 ms. */
  stepMs?: number;
  /** Stop between steps (the process is stopping): the release is finished at the next start's assignment. */
  signal?: AbortSignal;
  /** After each step: documents removed so far, and how long the step held the thread (LMDB, then memory and the graph). */
  onStep?: (removed: number, step: { documents: number; lmdbMs: number; graphMs: number }) => void;
}

/** Documents removed by the first step of a release; later steps are sized to take about `stepMs`. */
const FIRST_RELEASE_STEP = 64;
const MAX_RELEASE_STEP = 8192;

/** Most recently applied documents kept for the recall monitor's samples. */
const RECENT_CAPACITY = 512;

/**
 * The emb-indexer's index: LMDB (the truth: documents, f32 vectors, applied
 * offsets) and, in memory, a DocTable (per shard, each document's key, topic,
 * model and time in typed arrays: filters, eviction, statistics) and one HNSW
 * graph over every shard's vectors, stored as INDEX_QUANTIZATION says — the
 * only in-memory copy of the vectors. Exact scans read LMDB's f32 vectors
 * without decoding them. Changes go to LMDB first, in one transaction per
 * Kafka batch, then to memory; the graph is saved now and then as a cache and
 * replayed from LMDB at start. A start reads only the small recency entries
 * (never the rows with their texts) and the saved graph.
 */
export class VectorIndex {
  private table: DocTable | undefined;
  private indexGraph: IndexGraph | undefined;
  private readonly readVector: VectorReader;
  private readonly snapshots: GraphSnapshots;
  /** Ring buffer of recently applied doc_ids; `recentNext` is where the next one goes. */
  private readonly recent: string[] = [];
  private recentNext = 0;
  private readonly threads = availableParallelism();
  /** Documents held per model (for dims_by_model). */
  private readonly modelCounts = new Map<string, number>();
  /** Partitions whose documents answers leave out (the table reads it; rows remember their partition of the index's one topic). */
  private readonly hiddenPartitions = new Set<number>();
  /** Releases running, by partition. */
  private readonly releases = new Map<number, Promise<number>>();
  /** Partitions being released (or whose release a stop interrupted), by topic: refused batches, left out of answers. */
  private readonly releasingByTopic = new Map<string, Set<number>>();

  private constructor(
    readonly opts: IndexOptions,
    private readonly store: IndexStore,
  ) {
    this.snapshots = new GraphSnapshots(path.join(opts.dir, "hnsw"));
    this.readVector = (key, into, byteOffset) => store.copyVector(key, into, byteOffset);
  }

  /** How the graph stores vectors. */
  get quantization(): Quantization {
    return this.opts.hnsw.quantization ?? DEFAULT_QUANTIZATION;
  }

  /**
   * Open (or create) the index under `opts.dir` and load it into memory. Throws
   * when the directory was built with another shard count.
   */
  static open(opts: IndexOptions): { index: VectorIndex; report: OpenReport } {
    const started = performance.now();
    const store = new IndexStore(path.join(opts.dir, "lmdb"));
    const builtWith = store.shards;
    if (builtWith !== undefined && builtWith !== opts.shards) {
      void store.close();
      throw new Error(`the index in ${opts.dir} was built with ${builtWith} shards but EMB_INDEX_SHARDS is ${opts.shards}: set EMB_INDEX_SHARDS=${builtWith}, or delete ${opts.dir} to rebuild it from the topic`);
    }
    store.claimShards(opts.shards);
    const report: OpenReport = { docs: 0, graph: "empty", quantization: opts.hnsw.quantization ?? DEFAULT_QUANTIZATION, snapshotUnusable: null, replayedKeys: 0, ms: 0, model: { source: "empty", name: undefined, models: [] }, withoutTexts: 0, emptied: null };
    if (store.layout < STORE_LAYOUT && !store.isEmpty) {
      // The topic is the source of truth: an index whose rows do not say which partition they came from is rebuilt from it.
      store.clear();
      rmSync(path.join(opts.dir, "hnsw"), { recursive: true, force: true });
      report.emptied = "no-partitions";
    }
    store.claimLayout();
    const index = new VectorIndex(opts, store);
    const dim = store.dim;
    for (const { topic, partition } of store.unfinishedReleases()) index.markReleasing(topic, partition);
    if (dim !== undefined) {
      index.createShards(dim);
      index.loadTable(report);
      index.loadGraph(report);
      index.fillRecent();
      report.model = index.heldModel();
    }
    report.ms = Math.round(performance.now() - started);
    return { index, report };
  }

  /** Dimension of the vectors held, or undefined before the first one. */
  get dim(): number | undefined {
    return this.store.dim;
  }

  /** The model whose vectors the index holds, as its first record named it; undefined before the first one (or for an index whose model is unknown). */
  get model(): string | undefined {
    return this.store.model;
  }

  /** Models named by the documents held. */
  modelsHeld(): string[] {
    return [...this.modelCounts.keys()];
  }

  /** The stored model, or, for an index written before it was kept, the one model its documents name (then stored). */
  private heldModel(): IndexModel {
    const models = this.modelsHeld();
    const stored = this.store.model;
    if (stored !== undefined) return { source: "stored", name: stored, models };
    const first = models[0];
    if (first !== undefined && models.every((m) => sameModel(m, first))) {
      this.store.claimModel(first);
      return { source: "records", name: first, models };
    }
    return { source: "unknown", name: undefined, models };
  }

  get shards(): readonly ShardIndex[] {
    return this.table?.shards ?? [];
  }

  /** The HNSW graph over every shard, or undefined before the first vector. */
  get graph(): IndexGraph | undefined {
    return this.indexGraph;
  }

  /** Models the index holds documents of, each with the index's dimension. */
  dimsByModel(): Record<string, number> {
    const dim = this.store.dim;
    return dim === undefined ? {} : Object.fromEntries([...this.modelCounts.keys()].map((m) => [m, dim]));
  }

  /** Documents still held of partitions being released: in the graph and the shards' counts, left out of answers. */
  get hiddenIds(): number {
    return this.table?.hiddenCount ?? 0;
  }

  get totalIds(): number {
    return this.table?.size ?? 0;
  }

  /** Bytes of one vector in the graph (dim × 4, 2 or 1), for the shards' memory estimate; 0 while empty. */
  get graphVectorBytes(): number {
    const dim = this.store.dim;
    return dim === undefined ? 0 : vectorBytes(dim, this.quantization);
  }

  nextOffset(topic: string, partition: number): number | undefined {
    return this.store.nextOffset(topic, partition);
  }

  /** Where a document lives and its unit vector (f32, from LMDB), or undefined when the index does not hold it. */
  locate(docId: string): { shard: ShardIndex; key: number; meta: DocMeta; vector: Float32Array } | undefined {
    const key = this.store.doc(docId)?.key;
    const at = key === undefined || this.table?.isHidden(key) ? undefined : this.table?.find(key);
    const vector = at === undefined || key === undefined ? undefined : this.store.vector(key);
    if (key === undefined || !at || !vector) return undefined;
    return { shard: at.shard, key, meta: at.shard.hitAt(at.row), vector };
  }

  /** The full record of a document as LMDB keeps it (the mirror sends it on). */
  row(docId: string): DocRow | undefined {
    return this.store.doc(docId);
  }

  /**
   * What the index keeps of a document's text, read from LMDB (not held in
   * memory: the in-memory shards keep only what search and filters need).
   * `text_stored` is false for a record without text (EMBED_STORE_TEXT=0), a
   * row written before texts were kept, or a document gone since it was found.
   */
  text(docId: string): AnswerText {
    return answerText(this.store.doc(docId));
  }

  /** Up to `n` of the most recently applied doc_ids still held, newest first. */
  recentDocIds(n: number): string[] {
    const out: string[] = [];
    const size = this.recent.length;
    for (let back = 1; back <= size && out.length < n; back++) {
      const docId = this.recent[(this.recentNext - back + size) % size] as string;
      if (!out.includes(docId) && this.locate(docId)) out.push(docId);
    }
    return out;
  }

  newestDocIds(shard: number, n: number): string[] {
    return this.store.newestDocIds(shard, n);
  }

  /**
   * Work out what one Kafka batch of one partition changes, without changing
   * anything: records at offsets already applied are skipped (Kafka re-sends
   * them after a crash), the last record of a doc_id in the batch wins, and
   * records of another model or dimension than the index's (or, in an empty
   * index, than the batch's first), or with a zero vector, are refused.
   */
  plan(topic: string, partition: number, records: IncomingRecord[], nextOffset: number): BatchPlan {
    const applied = this.store.nextOffset(topic, partition) ?? 0;
    const fresh = records.filter((r) => r.offset >= applied);
    const plan: BatchPlan = { topic, partition, nextOffset, puts: [], alreadyApplied: records.length - fresh.length, refused: [], zeroVectors: 0, stale: nextOffset <= applied };
    if (plan.stale) return plan;
    const latest = new Map<string, EmbeddingRecord>();
    for (const { record } of fresh) {
      latest.delete(record.doc_id); // re-inserting keeps the map in order of last occurrence
      latest.set(record.doc_id, record);
    }
    const first = latest.values().next().value;
    const dim = this.store.dim ?? first?.vector.length;
    const model = this.store.model ?? first?.model;
    for (const r of latest.values()) {
      if (r.vector.length !== dim || (model !== undefined && !sameModel(r.model, model))) {
        plan.refused.push({ docId: r.doc_id, dim: r.vector.length, model: r.model });
        continue;
      }
      const unit = toUnit(r.vector);
      if (!unit) {
        plan.zeroVectors++;
        continue;
      }
      const row = { shard: shardOf(r.doc_id, this.opts.shards), partition, topic: r.topic, model: r.model, kafka_ts: r.kafka_ts, embedded_ts: r.embedded_ts, dim: r.vector.length, norm: unit.norm, unit: r.normalized, ...storedTextOf(r) };
      plan.puts.push({ docId: r.doc_id, row, vector: unit.unit });
    }
    return plan;
  }

  /**
   * Apply a plan: LMDB takes its documents, the evictions they cause and the
   * offset after the batch in one transaction; then the in-memory shards follow.
   */
  commit(plan: BatchPlan): ApplyResult {
    const result: ApplyResult = { inserted: 0, updated: 0, evicted: 0, changes: [] };
    this.refuseReleasing(plan.topic, plan.partition);
    if (plan.stale) return result;
    const first = plan.puts[0];
    if (!first) {
      this.store.advanceOffset(plan.topic, plan.partition, plan.nextOffset);
      return result;
    }
    if (!this.table) this.createShards(first.vector.length);
    result.changes = this.store.applyBatch({
      topic: plan.topic,
      partition: plan.partition,
      nextOffset: plan.nextOffset,
      dim: first.vector.length,
      model: first.row.model,
      puts: plan.puts,
      maxIdsPerShard: this.opts.maxIdsPerShard,
      shardCount: (s) => this.table?.shards[s]?.count ?? 0,
    });
    this.follow(result);
    return result;
  }

  /**
   * Move a partition's stored offset to `nextOffset` (never backward) without
   * changing any document: past records that were dead-lettered. It always
   * writes, so it also tells whether the store takes writes at all.
   */
  advanceOffset(topic: string, partition: number, nextOffset: number): void {
    this.refuseReleasing(topic, partition);
    this.store.advanceOffset(topic, partition, Math.max(nextOffset, this.store.nextOffset(topic, partition) ?? 0));
  }

  /** `plan` then `commit`, for callers with nothing to do in between. */
  apply(topic: string, partition: number, records: IncomingRecord[], nextOffset: number): ApplyResult & Omit<BatchPlan, "puts"> {
    const plan = this.plan(topic, partition, records, nextOffset);
    return { ...plan, ...this.commit(plan) };
  }

  /**
   * Forget every document read from `partition` of `topic` and its stored
   * offset (LMDB, memory and the graph), in one synchronous call that holds the
   * thread for the whole partition (≈ 0.5 ms a document): for tests and tools.
   * The indexer uses `releasePartition`. Returns how many documents went.
   */
  release(topic: string, partition: number): number {
    const running = this.releases.get(partition);
    if (running) throw new Error(`partition ${partition} is already being released`);
    const result: ApplyResult = { inserted: 0, updated: 0, evicted: 0, changes: this.store.release(topic, partition) };
    if (result.changes.length > 0) this.follow(result);
    this.endReleasing(topic, partition);
    return result.evicted;
  }

  /**
   * Forget a partition's documents and stored offset in steps, handing the
   * event loop back between them (each step ≈ `stepMs`: one LMDB transaction
   * of a few dozen to a few thousand documents, then their removal from memory
   * and the graph in one native call). From its first, synchronous, step the
   * partition's documents are left out of every answer (they are another
   * instance's now), its stored offset is gone and a batch for it is refused.
   *
   * A stop mid-way (crash, or `signal`) leaves documents of the partition and
   * no offset: at the next open they are left out of answers again
   * (`releasing`) and the next assignment finishes the release, whether the
   * partition stays elsewhere or comes back here (then rebuilt from the topic
   * once the release ends). Calling it while the partition is being released
   * returns the running release. Resolves to how many documents went.
   */
  releasePartition(topic: string, partition: number, opts: ReleaseOptions = {}): Promise<number> {
    const running = this.releases.get(partition);
    if (running) return running;
    this.markReleasing(topic, partition);
    const release = (async () => {
      this.store.beginRelease(topic, partition);
      const stepMs = opts.stepMs ?? 10;
      let size = FIRST_RELEASE_STEP;
      let removed = 0;
      for (;;) {
        opts.signal?.throwIfAborted();
        // The next step is sized from how long this one held the thread (LMDB's removals and the graph's), growing at most twofold.
        const started = performance.now();
        const { changes, done } = this.store.releaseChunk(topic, partition, size);
        const lmdbDone = performance.now();
        this.dropReleased(changes);
        const graphDone = performance.now();
        const held = graphDone - started;
        removed += changes.length;
        opts.onStep?.(removed, { documents: changes.length, lmdbMs: lmdbDone - started, graphMs: graphDone - lmdbDone });
        if (done) break;
        size = Math.max(16, Math.min(MAX_RELEASE_STEP, 2 * size, Math.round((size * stepMs) / Math.max(held, 0.1))));
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      this.endReleasing(topic, partition);
      return removed;
    })();
    this.releases.set(partition, release);
    const forget = () => this.releases.delete(partition);
    release.then(forget, forget);
    return release;
  }

  /**
   * Partitions of `topic` being released or whose release was interrupted
   * (found at open): their documents are left out of answers and their batches
   * refused until `releasePartition` ends.
   */
  releasing(topic: string): number[] {
    return [...this.releasingOf(topic)].sort((a, b) => a - b);
  }

  /** Exact top k over every document, LMDB's vectors read in bulk in key order (DocTable.scanAll); a step per chunk. */
  scanAll(q: Float32Array, k: number): ReturnType<DocTable["scanAll"]> {
    return this.table?.scanAll(q, k);
  }

  /** Partitions of `topic` this index holds documents or a stored offset of, ascending. */
  partitionsHeld(topic: string): number[] {
    return this.store.partitionsHeld(topic);
  }

  private releasingOf(topic: string): Set<number> {
    let set = this.releasingByTopic.get(topic);
    if (!set) this.releasingByTopic.set(topic, (set = new Set()));
    return set;
  }

  /** Documents of a partition being released are left out of answers; the table hides them by partition (rows remember theirs). */
  private markReleasing(topic: string, partition: number): void {
    this.releasingOf(topic).add(partition);
    this.hiddenPartitions.add(partition);
  }

  private endReleasing(topic: string, partition: number): void {
    this.releasingOf(topic).delete(partition);
    this.hiddenPartitions.delete(partition);
  }

  private refuseReleasing(topic: string, partition: number): void {
    if (this.releasingOf(topic).has(partition)) throw new Error(`partition ${partition} of ${topic} is being released: its batches are refused until the release ends (it is then rebuilt from the topic)`);
  }

  /** Memory and the graph follow a release step's evictions: one native call for the graph. */
  private dropReleased(changes: Change[]): void {
    const table = this.table;
    if (!table || changes.length === 0) return;
    const keys: number[] = [];
    for (const change of changes) {
      if (change.kind !== "evict") continue;
      this.countModel(table.meta(change.key)?.model, -1);
      table.remove(change.key);
      keys.push(change.key);
    }
    this.indexGraph?.removeMany(keys);
  }

  /**
   * Save the graph when it changed since its last save, without holding the
   * thread (IndexGraph.saveTo); resolves to how many graphs were saved (0 or 1).
   */
  async snapshot(): Promise<number> {
    return (await this.indexGraph?.saveTo(this.snapshots)) ? 1 : 0;
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  /** Make the in-memory table and graph follow the changes LMDB just committed. */
  private follow(result: ApplyResult): void {
    const graph = this.indexGraph as IndexGraph;
    const table = this.table as DocTable;
    // Keys put by this batch and still held at its end, added to the graph in one
    // native call on every core (several times faster than one insert at a time).
    const pending = new Map<number, Float32Array>();
    for (const change of result.changes) {
      if (change.kind === "put") {
        if (change.replacedKey !== undefined) {
          this.dropKey(change.replacedKey, pending);
          result.updated++;
        } else {
          result.inserted++;
        }
        table.put(change.row.shard, change.row.key, { topic: change.row.topic, model: change.row.model, embeddedTs: change.row.embedded_ts, partition: change.row.partition });
        pending.set(change.row.key, change.vector);
        this.countModel(change.row.model, 1);
        this.remember(change.docId);
      } else {
        this.dropKey(change.key, pending);
        result.evicted++;
      }
    }
    if (pending.size === 0) return;
    const dim = table.dim;
    const flat = new Float32Array(pending.size * dim);
    let i = 0;
    for (const vector of pending.values()) flat.set(vector, i++ * dim);
    graph.addVectors([...pending.keys()], flat);
  }

  /** Forget a key (replaced or evicted) in memory and the graph. */
  private dropKey(key: number, pending: Map<number, Float32Array>): void {
    const table = this.table as DocTable;
    this.countModel(table.meta(key)?.model, -1);
    if (!pending.delete(key)) (this.indexGraph as IndexGraph).remove(key);
    table.remove(key);
  }

  private createShards(dim: number): void {
    this.table = new DocTable(this.opts.shards, dim, this.opts.hnsw.connectivity, this.store, this.hiddenPartitions);
    this.indexGraph = new IndexGraph(dim, this.opts.hnsw, this.table, this.threads);
  }

  /** Every document's key and metadata, from LMDB's small recency entries. */
  private loadTable(report: OpenReport): void {
    const table = this.table as DocTable;
    for (const doc of this.store.liveDocs()) {
      table.put(doc.shard, doc.key, doc);
      this.countModel(doc.model, 1);
      report.docs++;
    }
    for (const shard of table.shards) shard.lastUpdate = null;
  }

  /** The graph from its snapshot with what it missed replayed, or rebuilt from LMDB's vectors. */
  private loadGraph(report: OpenReport): void {
    const graph = this.indexGraph as IndexGraph;
    const dim = this.store.dim as number;
    const saved = this.snapshots.load(dim, this.opts.hnsw);
    if ("graph" in saved) {
      report.replayedKeys = graph.restore(saved.graph, saved.keys, this.readVector);
      report.graph = "restored";
      return;
    }
    if (saved.unusable === "params") report.snapshotUnusable = "params";
    if (report.docs > 0) {
      graph.rebuild(this.readVector);
      report.graph = "rebuilt";
    }
  }

  private fillRecent(): void {
    const perShard = Math.ceil(RECENT_CAPACITY / this.opts.shards);
    const newest = this.shards.flatMap((s) => this.store.newestDocIds(s.id, perShard));
    for (const docId of newest.reverse()) this.remember(docId);
  }

  private countModel(model: string | undefined, delta: number): void {
    if (model === undefined) return;
    const n = (this.modelCounts.get(model) ?? 0) + delta;
    if (n > 0) this.modelCounts.set(model, n);
    else this.modelCounts.delete(model);
  }

  private remember(docId: string): void {
    this.recent[this.recentNext] = docId;
    this.recentNext = (this.recentNext + 1) % RECENT_CAPACITY;
  }
}
