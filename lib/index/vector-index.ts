import { availableParallelism } from "node:os";
import path from "node:path";
import { sameModel } from "../embedding/model-identity";
import type { EmbeddingRecord } from "../records/embedding-record";
import { shardOf } from "../records/shard";
import { IndexGraph } from "./graph";
import { GraphSnapshots, type HnswParams } from "./hnsw";
import { ShardIndex, type DocMeta } from "./shard-index";
import { rmSync } from "node:fs";
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
  /** Keys added to or dropped from a restored graph to match LMDB. */
  replayedKeys: number;
  ms: number;
  /** The model whose vectors the index holds (see IndexModel). */
  model: IndexModel;
  /** Documents indexed before texts were kept: their answers say so (text_stored false) until the index is rebuilt. */
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

/** Most recently applied documents kept for the recall monitor's samples. */
const RECENT_CAPACITY = 512;

/**
 * The emb-indexer's index: LMDB (the truth: documents, vectors, applied
 * offsets) mirrored in memory by one ShardIndex per shard (rows and metadata,
 * for exact search, eviction and statistics) and one HNSW graph over every
 * shard's vectors (approximate search). Changes go to LMDB first, in one
 * transaction per Kafka batch, then to memory; the graph is saved now and then
 * as a cache and replayed from LMDB at start.
 */
export class VectorIndex {
  private shardIndexes: ShardIndex[] = [];
  private indexGraph: IndexGraph | undefined;
  private readonly snapshots: GraphSnapshots;
  /** Ring buffer of recently applied doc_ids; `recentNext` is where the next one goes. */
  private readonly recent: string[] = [];
  private recentNext = 0;
  private readonly threads = availableParallelism();
  /** Documents held per model (for dims_by_model). */
  private readonly modelCounts = new Map<string, number>();

  private constructor(
    readonly opts: IndexOptions,
    private readonly store: IndexStore,
  ) {
    this.snapshots = new GraphSnapshots(path.join(opts.dir, "hnsw"));
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
    const report: OpenReport = { docs: 0, graph: "empty", replayedKeys: 0, ms: 0, model: { source: "empty", name: undefined, models: [] }, withoutTexts: 0, emptied: null };
    if (store.layout < STORE_LAYOUT && !store.isEmpty) {
      // The topic is the source of truth: an index whose rows do not say which partition they came from is rebuilt from it.
      store.clear();
      rmSync(path.join(opts.dir, "hnsw"), { recursive: true, force: true });
      report.emptied = "no-partitions";
    }
    store.claimLayout();
    const index = new VectorIndex(opts, store);
    const dim = store.dim;
    if (dim !== undefined) {
      index.createShards(dim);
      for (const shard of index.shardIndexes) index.loadShard(shard, report);
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
    return this.shardIndexes;
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

  get totalIds(): number {
    return this.shardIndexes.reduce((n, s) => n + s.count, 0);
  }

  nextOffset(topic: string, partition: number): number | undefined {
    return this.store.nextOffset(topic, partition);
  }

  /** Where a document lives, or undefined when the index does not hold it. */
  locate(docId: string): { shard: ShardIndex; key: number; meta: DocMeta; vector: Float32Array } | undefined {
    const shard = this.shardIndexes[shardOf(docId, this.opts.shards)];
    const key = shard?.keyOf(docId);
    if (!shard || key === undefined) return undefined;
    return { shard, key, meta: shard.metaOf(key) as DocMeta, vector: shard.vectorOf(key) as Float32Array };
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
    if (plan.stale) return result;
    const first = plan.puts[0];
    if (!first) {
      this.store.advanceOffset(plan.topic, plan.partition, plan.nextOffset);
      return result;
    }
    if (this.shardIndexes.length === 0) this.createShards(first.vector.length);
    result.changes = this.store.applyBatch({
      topic: plan.topic,
      partition: plan.partition,
      nextOffset: plan.nextOffset,
      dim: first.vector.length,
      model: first.row.model,
      puts: plan.puts,
      maxIdsPerShard: this.opts.maxIdsPerShard,
      shardCount: (s) => this.shardIndexes[s]?.count ?? 0,
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
    this.store.advanceOffset(topic, partition, Math.max(nextOffset, this.store.nextOffset(topic, partition) ?? 0));
  }

  /** `plan` then `commit`, for callers with nothing to do in between. */
  apply(topic: string, partition: number, records: IncomingRecord[], nextOffset: number): ApplyResult & Omit<BatchPlan, "puts"> {
    const plan = this.plan(topic, partition, records, nextOffset);
    return { ...plan, ...this.commit(plan) };
  }

  /**
   * Forget every document read from `partition` of `topic` and its stored
   * offset (LMDB, memory and the graph): the partition now belongs to another
   * indexer, and if it comes back it is rebuilt from the topic. Returns how
   * many documents went.
   */
  release(topic: string, partition: number): number {
    const result: ApplyResult = { inserted: 0, updated: 0, evicted: 0, changes: this.store.release(topic, partition) };
    if (result.changes.length > 0) this.follow(result);
    return result.evicted;
  }

  /** Partitions of `topic` this index holds documents or a stored offset of, ascending. */
  partitionsHeld(topic: string): number[] {
    return this.store.partitionsHeld(topic);
  }

  /** Save the graph when it changed since its last save; returns how many graphs were saved (0 or 1). */
  snapshot(): number {
    const dim = this.store.dim;
    const graph = this.indexGraph;
    if (dim === undefined || !graph?.dirty) return 0;
    this.snapshots.save(graph.native, graph.keys(), dim, this.opts.hnsw);
    graph.dirty = false;
    return 1;
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  /** Make the in-memory shards follow the changes LMDB just committed. */
  private follow(result: ApplyResult): void {
    const graph = this.indexGraph as IndexGraph;
    // Keys put by this batch and still held at its end, added to the graph in bulk
    // (several times faster than one insert at a time).
    const pendingGraphAdds = new Map<ShardIndex, Set<number>>();
    for (const change of result.changes) {
      const shard = this.shardIndexes[change.kind === "put" ? change.row.shard : change.shard] as ShardIndex;
      const pending = pendingGraphAdds.get(shard) ?? new Set<number>();
      pendingGraphAdds.set(shard, pending);
      if (change.kind === "put") {
        if (change.replacedKey !== undefined) {
          this.countModel(shard.metaOf(change.replacedKey)?.model, -1);
          pending.delete(change.replacedKey);
          graph.remove(change.replacedKey);
          result.updated++;
        } else {
          result.inserted++;
        }
        shard.putRow(change.row.key, change.vector, { docId: change.docId, topic: change.row.topic, model: change.row.model, embeddedTs: change.row.embedded_ts });
        pending.add(change.row.key);
        this.countModel(change.row.model, 1);
        this.remember(change.docId);
      } else {
        this.countModel(shard.metaOf(change.key)?.model, -1);
        pending.delete(change.key);
        graph.remove(change.key);
        shard.remove(change.key);
        result.evicted++;
      }
    }
    for (const [shard, keys] of pendingGraphAdds) graph.add(shard, [...keys], this.threads);
  }

  private createShards(dim: number): void {
    this.shardIndexes = Array.from({ length: this.opts.shards }, (_, id) => new ShardIndex(id, dim, this.opts.hnsw.connectivity));
    this.indexGraph = new IndexGraph(dim, this.opts.hnsw);
  }

  private loadShard(shard: ShardIndex, report: OpenReport): void {
    for (const { docId, row, vector } of this.store.shardDocs(shard.id)) {
      shard.putRow(row.key, vector, { docId, topic: row.topic, model: row.model, embeddedTs: row.embedded_ts });
      this.countModel(row.model, 1);
      report.docs++;
      if (row.text === undefined) report.withoutTexts++;
    }
    shard.lastUpdate = null;
  }

  /** The graph from its snapshot with what it missed replayed, or rebuilt from the rows. */
  private loadGraph(report: OpenReport): void {
    const graph = this.indexGraph as IndexGraph;
    const dim = this.store.dim as number;
    const saved = this.snapshots.load(dim, this.opts.hnsw);
    if (saved) {
      report.replayedKeys = graph.restore(saved.graph, saved.keys, this.shardIndexes, this.threads);
      report.graph = "restored";
    } else if (report.docs > 0) {
      graph.rebuild(this.shardIndexes, this.threads);
      report.graph = "rebuilt";
    }
  }

  private fillRecent(): void {
    const perShard = Math.ceil(RECENT_CAPACITY / this.opts.shards);
    const newest = this.shardIndexes.flatMap((s) => this.store.newestDocIds(s.id, perShard));
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
