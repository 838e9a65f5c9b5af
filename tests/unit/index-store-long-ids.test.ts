import path from "node:path";
import { open } from "lmdb";
import { describe, expect, it } from "vitest";
import { DOC_KEY_MAX_BYTES, IndexStore, isShortDocId } from "../../lib/index/store";
import { VectorIndex, type IncomingRecord } from "../../lib/index/vector-index";
import type { EmbeddingRecord } from "../../lib/records/embedding-record";
import { indexFixtures } from "./index-fixtures";
import { shardOf } from "../../lib/records/shard";

const HNSW = { connectivity: 8, efAdd: 32, efSearch: 32 };
// Opened and closed by the tests themselves; the fixture's directories are removed after each.
const { tempDir } = indexFixtures("index-long-ids-", HNSW);

const DIM = 8;
const vectorOf = (seed: number) => Array.from({ length: DIM }, (_, d) => Math.sin(seed * 1.7 + d * 0.3) + 0.01);
const rec = (docId: string, seed: number): EmbeddingRecord => ({ topic: "t", text: "x", doc_id: docId, vector: vectorOf(seed), kafka_ts: 1, embedded_ts: 2, model: "m", dim: DIM, normalized: false });
const opts = (dir: string, maxIdsPerShard = 0) => ({ dir, shards: 4, maxIdsPerShard, hnsw: HNSW });

// LMDB refuses keys over 1,978 bytes; these all pass through the index anyway.
const long3000 = `doc-${"x".repeat(2996)}`;
const longMultibyte = "é".repeat(1500); // 1,500 characters, 3,000 UTF-8 bytes
const justOver = "y".repeat(DOC_KEY_MAX_BYTES + 1);
const short = "short-doc";

describe("index store: doc_ids of any length", () => {
  it("keys short ids by their text and long ids by their hash", () => {
    expect(isShortDocId(short)).toBe(true);
    expect(isShortDocId("z".repeat(DOC_KEY_MAX_BYTES))).toBe(true);
    expect(isShortDocId(justOver)).toBe(false);
    expect(isShortDocId(longMultibyte)).toBe(false);
  });

  it("indexes, finds, upserts and reopens documents with 3,000-character doc_ids", async () => {
    const dir = tempDir();
    const ids = [short, long3000, longMultibyte, justOver];
    let { index } = VectorIndex.open(opts(dir));
    const records: IncomingRecord[] = ids.map((id, i) => ({ offset: i, record: rec(id, i) }));
    const first = index.apply("embeddings", 0, records, ids.length);
    expect(first).toMatchObject({ inserted: 4, updated: 0 });
    for (const [i, id] of ids.entries()) {
      const found = index.locate(id);
      expect(found?.meta.docId, id.slice(0, 20)).toBe(id);
      expect(index.row(id)).toMatchObject({ shard: shardOf(id, 4), model: "m" });
      expect(found!.vector[0]).toBeCloseTo(vectorOf(i)[0]! / Math.hypot(...vectorOf(i)), 5);
    }
    // An upsert of a long id replaces it: a new vector, the same count.
    const upsert = index.apply("embeddings", 0, [{ offset: 4, record: rec(long3000, 99) }], 5);
    expect(upsert).toMatchObject({ inserted: 0, updated: 1 });
    expect(index.totalIds).toBe(4);
    // Shard samples are the full ids.
    const samples = index.shards.flatMap((s) => index.newestDocIds(s.id, 10));
    expect(samples.sort()).toEqual([...ids].sort());
    await index.close();

    // Reopened from disk: every id found, the long one at its second version.
    ({ index } = VectorIndex.open(opts(dir)));
    expect(index.totalIds).toBe(4);
    for (const id of ids) expect(index.locate(id)?.meta.docId).toBe(id);
    expect(index.locate(long3000)!.vector[0]).toBeCloseTo(vectorOf(99)[0]! / Math.hypot(...vectorOf(99)), 5);
    expect(index.nextOffset("embeddings", 0)).toBe(5);
    await index.close();
  });

  it("evicts long ids like short ones", async () => {
    const dir = tempDir();
    const { index } = VectorIndex.open({ ...opts(dir, 1), shards: 1 });
    index.apply("embeddings", 0, [{ offset: 0, record: rec(long3000, 1) }], 1);
    index.apply("embeddings", 0, [{ offset: 1, record: rec(short, 2) }], 2);
    expect(index.totalIds).toBe(1);
    expect(index.locate(long3000)).toBeUndefined();
    expect(index.row(long3000)).toBeUndefined();
    index.apply("embeddings", 0, [{ offset: 2, record: rec(longMultibyte, 3) }], 3);
    expect(index.locate(short)).toBeUndefined();
    expect(index.locate(longMultibyte)?.meta.docId).toBe(longMultibyte);
    await index.close();
  });

  it("still finds an id an older version stored under its text, and moves it when it is written again", async () => {
    const dir = tempDir();
    const lmdbDir = path.join(dir, "lmdb");
    // The layout an older version left: every doc_id up to LMDB's limit keyed by its text in `docs`.
    const legacyId = "w".repeat(1500);
    const store = new IndexStore(lmdbDir);
    store.claimShards(1);
    // A store of the current layout (an older layout is emptied at open: rows then did not keep their partition).
    store.claimLayout();
    store.applyBatch({ topic: "embeddings", partition: 0, nextOffset: 1, dim: DIM, model: "m", puts: [{ docId: short, row: { shard: 0, topic: "t", model: "m", kafka_ts: 1, embedded_ts: 2, dim: DIM, norm: 1, unit: false }, vector: new Float32Array(vectorOf(0)) }], maxIdsPerShard: 0, shardCount: () => 0 });
    await store.close();
    const raw = open({ path: lmdbDir, maxDbs: 8, compression: false });
    const docs = raw.openDB({ name: "docs" });
    raw.openDB({ name: "vectors", encoding: "binary" }).putSync(7, Buffer.from(new Float32Array(vectorOf(5)).buffer));
    raw.openDB({ name: "recency" }).putSync([0, 7], [legacyId, "t", "m", 2]);
    docs.putSync(legacyId, { key: 7, shard: 0, topic: "t", model: "m", kafka_ts: 1, embedded_ts: 2, dim: DIM, norm: 1, unit: false, partition: 0 });
    raw.openDB({ name: "bypartition" }).putSync(["embeddings", 0, 7], legacyId);
    raw.openDB({ name: "meta" }).putSync("nextKey", 8);
    await raw.close();

    let { index } = VectorIndex.open({ ...opts(dir), shards: 1 });
    expect(index.totalIds).toBe(2);
    expect(index.locate(legacyId)?.meta.docId).toBe(legacyId);
    expect(index.locate(short)?.meta.docId).toBe(short);
    expect(index.apply("embeddings", 0, [{ offset: 1, record: rec(legacyId, 6) }], 2)).toMatchObject({ updated: 1, inserted: 0 });
    await index.close();

    ({ index } = VectorIndex.open({ ...opts(dir), shards: 1 }));
    expect(index.totalIds).toBe(2);
    expect(index.locate(legacyId)!.vector[0]).toBeCloseTo(vectorOf(6)[0]! / Math.hypot(...vectorOf(6)), 5);
    await index.close();
    const after = open({ path: lmdbDir, maxDbs: 8, compression: false });
    // Moved to the hashed database: stored once.
    expect(after.openDB({ name: "docs" }).get(legacyId)).toBeUndefined();
    await after.close();
  });
});
