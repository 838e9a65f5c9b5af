import path from "node:path";
import { open as lmdbOpen } from "lmdb";
import { describe, expect, it } from "vitest";
import { searchIndex } from "../../lib/index/search";
import { type IncomingRecord } from "../../lib/index/vector-index";
import type { EmbeddingRecord } from "../../lib/records/embedding-record";
import { indexFixtures } from "./index-fixtures";
import { shardOf } from "../../lib/records/shard";

// f32: these 8-dim test vectors include near-duplicates (cosine 0.99993) that f16 cannot tell apart; quantization has its own test.
const HNSW = { connectivity: 16, efAdd: 64, efSearch: 32, quantization: "f32" as const };
const { open, close, tempDir } = indexFixtures("index-test-", HNSW);

/** A deterministic 8-dim vector per seed, pointing mostly along axis seed % 8. */
function vec(seed: number): number[] {
  return Array.from({ length: 8 }, (_, d) => (d === seed % 8 ? 1 : 0.05 * Math.sin(seed * 7 + d)));
}

function rec(docId: string, vector: number[], extra: Partial<EmbeddingRecord> = {}): EmbeddingRecord {
  return { topic: "t", text: "x", doc_id: docId, vector, kafka_ts: 1, embedded_ts: 100, model: "m", dim: vector.length, normalized: false, ...extra };
}

/** Records at consecutive offsets from `first`. */
const at = (first: number, records: EmbeddingRecord[]): IncomingRecord[] => records.map((record, i) => ({ offset: first + i, record }));

describe("VectorIndex", () => {
  it("upserts by doc_id: a new vector replaces the old one and the count stays", () => {
    const { index } = open(tempDir());
    index.apply("e", 0, at(0, [rec("a", vec(1)), rec("b", vec(2))]), 2);
    index.apply("e", 0, at(2, [rec("a", vec(3))]), 3);
    expect(index.totalIds).toBe(2);
    const top = searchIndex(index, index.locate("a")!.vector, { k: 1, exact: true });
    expect(top.neighbors[0]?.item.docId).toBe("a");
    expect(top.neighbors[0]?.score).toBeCloseTo(1, 5);
    const cos = searchIndex(index, Float32Array.from(vec(3)).map((x, _, a) => x / Math.hypot(...a)), { k: 1, exact: true });
    expect(cos.neighbors[0]?.item.docId).toBe("a");
  });

  it("keeps the newest EMB_SHARD_MAX_IDS per shard and evicts the oldest", () => {
    const { index } = open(tempDir(), { shards: 1, maxIdsPerShard: 3 });
    index.apply("e", 0, at(0, ["d1", "d2", "d3", "d4"].map((id, i) => rec(id, vec(i)))), 4);
    index.apply("e", 0, at(4, [rec("d5", vec(5))]), 5);
    expect(index.totalIds).toBe(3);
    expect(["d1", "d2", "d3", "d4", "d5"].filter((id) => index.locate(id))).toEqual(["d3", "d4", "d5"]);
    expect(index.newestDocIds(0, 5)).toEqual(["d5", "d4", "d3"]);
  });

  it("skips records at offsets it already applied (Kafka re-sends them after a crash)", () => {
    const { index } = open(tempDir(), { shards: 1, maxIdsPerShard: 2 });
    index.apply("e", 0, at(0, [rec("x", vec(1)), rec("y", vec(2))]), 2);
    const again = index.apply("e", 0, at(0, [rec("x", vec(1)), rec("y", vec(2)), rec("z", vec(3))]), 3);
    expect(again.alreadyApplied).toBe(2);
    expect(again.inserted).toBe(1);
    // Re-applying x and y would have made them the newest and evicted z instead of x.
    expect(["x", "y", "z"].filter((id) => index.locate(id))).toEqual(["y", "z"]);
    expect(index.nextOffset("e", 0)).toBe(3);
  });

  it("refuses vectors of another dimension and still moves past them", () => {
    const { index } = open(tempDir());
    index.apply("e", 0, at(0, [rec("a", vec(1))]), 1);
    const r = index.apply("e", 0, at(1, [rec("wide", [1, 2, 3], { model: "other" })]), 2);
    expect(r.refused).toEqual([{ docId: "wide", dim: 3, model: "other" }]);
    expect(index.totalIds).toBe(1);
    expect(index.nextOffset("e", 0)).toBe(2);
  });

  it("remembers the model it holds and refuses another model's vectors of the same dimension", async () => {
    const dir = tempDir();
    const { index, report } = open(dir);
    expect(report.model).toEqual({ source: "empty", name: undefined, models: [] });
    index.apply("e", 0, at(0, [rec("a", vec(1), { model: "all-MiniLM-L6-v2" })]), 1);
    expect(index.model).toBe("all-MiniLM-L6-v2");
    const r = index.apply("e", 0, at(1, [rec("bge", vec(2), { model: "BAAI/bge-small-en-v1.5" }), rec("b", vec(3), { model: "sentence-transformers/all-MiniLM-L6-v2" })]), 3);
    expect(r.refused).toEqual([{ docId: "bge", dim: 8, model: "BAAI/bge-small-en-v1.5" }]);
    expect(index.locate("b")).toBeDefined();
    expect(index.nextOffset("e", 0)).toBe(3);
    await close(index);
    const { report: reopened } = open(dir);
    expect(reopened.model).toMatchObject({ source: "stored", name: "all-MiniLM-L6-v2" });
  });

  it("reads the model of an index written before it kept one from its documents, and stores it", async () => {
    const dir = tempDir();
    const { index } = open(dir);
    index.apply("e", 0, at(0, [rec("a", vec(1), { model: "use-lite" }), rec("b", vec(2), { model: "use-lite" })]), 2);
    await close(index);
    // What an older version left: no "model" in the meta database.
    const raw = lmdbOpen({ path: path.join(dir, "lmdb"), maxDbs: 8, compression: false });
    raw.openDB({ name: "meta" }).removeSync("model");
    await raw.close();
    const legacy = open(dir);
    expect(legacy.report.model).toEqual({ source: "records", name: "use-lite", models: ["use-lite"] });
    expect(legacy.index.model).toBe("use-lite");
    await close(legacy.index);
    expect(open(dir).report.model).toMatchObject({ source: "stored", name: "use-lite" });
  });

  it("restarts with the same documents, offsets and answers, replaying what the graph snapshot missed", async () => {
    const dir = tempDir();
    // One shard above the size below which shards are scanned instead of searched by graph.
    const { index } = open(dir, { shards: 1 });
    const spread = (i: number, version = 0) => Array.from({ length: 8 }, (_, d) => Math.sin(i * 1.7 + d * 2.3 + version));
    const records = Array.from({ length: 1500 }, (_, i) => rec(`doc-${i}`, spread(i)));
    index.apply("e", 1, at(0, records.slice(0, 1000)), 1000);
    await index.snapshot();
    // Applied after the snapshot: the restart must replay these from LMDB.
    index.apply("e", 1, at(1000, records.slice(1000)), 1500);
    index.apply("e", 1, at(1500, [rec("doc-0", spread(0, 1))]), 1501);
    const q = index.locate("doc-1234")!.vector;
    const before = searchIndex(index, q, { k: 10, exact: true }).neighbors.map((n) => n.item.docId);
    await close(index);

    const { index: reopened, report } = open(dir, { shards: 1 });
    expect(report).toMatchObject({ docs: 1500, graph: "restored", replayedKeys: 502 });
    expect(reopened.totalIds).toBe(1500);
    expect(reopened.nextOffset("e", 1)).toBe(1501);
    expect(searchIndex(reopened, q, { k: 10, exact: true }).neighbors.map((n) => n.item.docId)).toEqual(before);
    const approx = searchIndex(reopened, q, { k: 10, exact: false });
    expect(approx.mode).toBe("hnsw");
    expect(approx.neighbors[0]?.item.docId).toBe("doc-1234");
    expect(approx.neighbors.filter((n) => before.includes(n.item.docId)).length).toBeGreaterThanOrEqual(9);
  });

  it("refuses to open an index built with another shard count", async () => {
    const dir = tempDir();
    const { index } = open(dir, { shards: 4 });
    index.apply("e", 0, at(0, [rec("a", vec(1))]), 1);
    await close(index);
    expect(() => open(dir, { shards: 8 })).toThrow(/built with 4 shards but EMB_INDEX_SHARDS is 8/);
  });

  it("places documents by sha256(doc_id) mod shards and filters by topic", () => {
    const { index } = open(tempDir());
    index.apply("e", 0, at(0, [rec("a", vec(1), { topic: "news" }), rec("b", vec(1), { topic: "chat" })]), 2);
    expect(index.locate("a")?.shard.id).toBe(shardOf("a", 4));
    const q = index.locate("a")!.vector;
    const onlyChat = searchIndex(index, q, { k: 5, exact: false, filter: (m) => m.topic === "chat" });
    expect(onlyChat.neighbors.map((n) => n.item.docId)).toEqual(["b"]);
    const notSelf = searchIndex(index, q, { k: 5, exact: true, excludeDocId: "a" });
    expect(notSelf.neighbors.map((n) => n.item.docId)).toEqual(["b"]);
  });
});
