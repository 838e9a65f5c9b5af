import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { searchIndex } from "../../lib/index/search";
import { VectorIndex, type IncomingRecord } from "../../lib/index/vector-index";
import type { EmbeddingRecord } from "../../lib/records/embedding-record";
import { indexFixtures } from "./index-fixtures";

const HNSW = { connectivity: 16, efAdd: 64, efSearch: 32 };
const { open, close, tempDir } = indexFixtures("index-search-test-", HNSW);

/** A deterministic 16-dim vector per seed (and version), spread over the sphere. */
const spread = (i: number, version = 0) => Array.from({ length: 16 }, (_, d) => Math.sin(i * 1.7 + d * 2.3 + version * 0.9) + 0.3 * Math.cos(i * 0.37 * (d + 1)));

function rec(docId: string, vector: number[], extra: Partial<EmbeddingRecord> = {}): EmbeddingRecord {
  return { topic: "t", text: "x", doc_id: docId, vector, kafka_ts: 1, embedded_ts: 100, model: "m", dim: vector.length, normalized: false, ...extra };
}

const at = (first: number, records: EmbeddingRecord[]): IncomingRecord[] => records.map((record, i) => ({ offset: first + i, record }));

/** `n` documents doc-0… in batches of 500, every 50th in topic "rare". */
function fill(index: VectorIndex, n: number, first = 0): void {
  for (let from = first; from < first + n; from += 500) {
    const batch = Array.from({ length: Math.min(500, first + n - from) }, (_, j) => from + j);
    index.apply("e", 0, at(from, batch.map((i) => rec(`doc-${i}`, spread(i), { topic: i % 50 === 0 ? "rare" : "common" }))), from + batch.length);
  }
}

const ids = (r: ReturnType<typeof searchIndex>) => r.neighbors.map((n) => n.item.docId);
const overlap = (a: string[], b: string[]) => a.filter((x) => b.includes(x)).length;

describe("searchIndex over the index-wide HNSW graph", () => {
  it("answers from one graph that holds exactly the documents of every shard", () => {
    const { index } = open(tempDir());
    fill(index, 3000);
    // Upserts and evictions keep the graph in step with the rows.
    index.apply("e", 0, at(3000, [rec("doc-7", spread(7, 1))]), 3001);
    expect(index.graph?.size).toBe(index.totalIds);
    const q = index.locate("doc-1234")!.vector;
    const exact = searchIndex(index, q, { k: 10, exact: true });
    const approx = searchIndex(index, q, { k: 10, exact: false });
    expect(approx.mode).toBe("hnsw");
    expect(exact.mode).toBe("exact");
    expect(approx.neighbors[0]?.item.docId).toBe("doc-1234");
    expect(overlap(ids(approx), ids(exact))).toBeGreaterThanOrEqual(9);
    // The replaced version of doc-7 is gone from the graph: its old vector finds doc-7 only by its new one.
    const old = Float32Array.from(spread(7)).map((x, _, a) => x / Math.hypot(...a));
    const hits = searchIndex(index, old, { k: 5, exact: false }).neighbors.filter((n) => n.item.docId === "doc-7");
    expect(hits.every((h) => h.item.key === index.locate("doc-7")!.key)).toBe(true);
  });

  it("keeps a shard subset: only its documents, the same top-k as an exact scan of the subset", () => {
    const { index } = open(tempDir());
    fill(index, 3000);
    const q = index.locate("doc-42")!.vector;
    for (const subset of [[1], [0, 2, 3]]) {
      const approx = searchIndex(index, q, { k: 10, exact: false, shards: subset });
      const exact = searchIndex(index, q, { k: 10, exact: true, shards: subset });
      expect(approx.neighbors).toHaveLength(10);
      expect(approx.neighbors.every((n) => subset.includes(index.locate(n.item.docId)!.shard.id))).toBe(true);
      expect(overlap(ids(approx), ids(exact)), `shards ${subset.join(",")}`).toBeGreaterThanOrEqual(9);
    }
    // Three shards of four: the graph over-fetches and keeps those in the subset.
    expect(searchIndex(index, q, { k: 10, exact: false, shards: [0, 2, 3] }).mode).toBe("hnsw");
    // One shard of about 750 documents: too few for a graph search to pay, it is scanned.
    expect(searchIndex(index, q, { k: 10, exact: false, shards: [1] }).mode).toBe("exact");
  });

  it("falls back to an exact scan when a filter leaves too few of the graph's candidates", () => {
    const { index } = open(tempDir());
    fill(index, 3000);
    const q = index.locate("doc-1")!.vector;
    const rare = (m: { topic: string | null }) => m.topic === "rare";
    const approx = searchIndex(index, q, { k: 10, exact: false, filter: rare });
    const exact = searchIndex(index, q, { k: 10, exact: true, filter: rare });
    expect(approx.mode).toBe("exact");
    expect(ids(approx)).toEqual(ids(exact));
    expect(approx.neighbors.every((n) => n.item.topic === "rare")).toBe(true);
    // A filter most documents pass is answered from the graph.
    const common = searchIndex(index, q, { k: 10, exact: false, filter: (m) => m.topic === "common" });
    expect(common.mode).toBe("hnsw");
    expect(common.neighbors).toHaveLength(10);
    expect(common.neighbors.every((n) => n.item.topic === "common")).toBe(true);
  });

  it("leaves the queried document out without losing a neighbour", () => {
    const { index } = open(tempDir());
    fill(index, 2000);
    const q = index.locate("doc-99")!.vector;
    const r = searchIndex(index, q, { k: 10, exact: false, excludeDocId: "doc-99" });
    expect(r.neighbors).toHaveLength(10);
    expect(ids(r)).not.toContain("doc-99");
  });

  it("restores the graph after evictions, dropping the evicted keys the snapshot still holds", async () => {
    const dir = tempDir();
    const { index } = open(dir, { shards: 2, maxIdsPerShard: 1000 });
    fill(index, 2000);
    const heldBy = () => new Set(Array.from({ length: 2600 }, (_, i) => `doc-${i}`).filter((id) => index.locate(id)));
    const inSnapshot = heldBy();
    await index.snapshot();
    fill(index, 600, 2000);
    const live = heldBy();
    const held = index.totalIds;
    expect(held).toBe(live.size);
    expect(held).toBeLessThanOrEqual(2000);
    const added = [...live].filter((id) => !inSnapshot.has(id)).length;
    const evicted = [...inSnapshot].filter((id) => !live.has(id)).length;
    expect(added).toBe(600);
    expect(evicted).toBeGreaterThan(500);
    const q = index.locate("doc-2100")!.vector;
    const before = ids(searchIndex(index, q, { k: 10, exact: true }));
    await close(index);

    const { index: reopened, report } = open(dir, { shards: 2, maxIdsPerShard: 1000 });
    // The 600 added after the snapshot, and the documents evicted since dropped from it.
    expect(report).toMatchObject({ graph: "restored", replayedKeys: added + evicted });
    expect(reopened.graph?.size).toBe(held);
    const approx = searchIndex(reopened, q, { k: 10, exact: false });
    expect(approx.mode).toBe("hnsw");
    expect(overlap(ids(approx), before)).toBeGreaterThanOrEqual(9);
  });

  it("rebuilds the graph over per-shard snapshots of earlier versions and removes them at the next save", async () => {
    const dir = tempDir();
    const { index } = open(dir);
    fill(index, 1500);
    await close(index);
    // What an earlier version left: one graph directory per shard.
    mkdirSync(path.join(dir, "hnsw", "shard-000"), { recursive: true });
    writeFileSync(path.join(dir, "hnsw", "shard-000", "manifest.json"), JSON.stringify({ generation: 1, dim: 16, connectivity: 16, efAdd: 64, size: 1 }));

    const { index: reopened, report } = open(dir);
    expect(report).toMatchObject({ docs: 1500, graph: "rebuilt", replayedKeys: 0 });
    expect(reopened.graph?.size).toBe(1500);
    expect(await reopened.snapshot()).toBe(1);
    expect(readdirSync(path.join(dir, "hnsw")).filter((f) => f.startsWith("shard-"))).toEqual([]);
    expect(await reopened.snapshot()).toBe(0);
  });
});
