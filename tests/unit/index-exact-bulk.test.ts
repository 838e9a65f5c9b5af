import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { searchIndex } from "../../lib/index/search";
import { VectorIndex, type IncomingRecord } from "../../lib/index/vector-index";
import type { EmbeddingRecord } from "../../lib/records/embedding-record";

const DIM = 16;
const TOPIC = "embeddings";
const dirs: string[] = [];
const opened: VectorIndex[] = [];
afterEach(async () => {
  for (const index of opened.splice(0)) await index.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Repeatable pseudo-random directions. */
function direction(seed: number): number[] {
  let x = seed * 2654435761 || 1;
  return Array.from({ length: DIM }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 2 ** 32) * 2 - 1;
  });
}
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / n);
};
const rec = (docId: string, seed: number): EmbeddingRecord => ({ topic: "t", text: docId, doc_id: docId, vector: direction(seed), kafka_ts: 1, embedded_ts: seed, model: "m", dim: DIM, normalized: false });
const at = (first: number, records: EmbeddingRecord[]): IncomingRecord[] => records.map((record, i) => ({ offset: first + i, record }));

/** Exact top k by reading every shard row by row (ShardIndex.searchExact), merged: what scans did before reading in bulk. */
function rowByRow(index: VectorIndex, q: Float32Array, k: number) {
  return index.shards
    .flatMap((s) => s.searchExact(q, k).hits)
    .sort((a, b) => b.score - a.score)
    .slice(0, k)
    .map((h) => h.item.docId);
}

describe("exact scans read LMDB's vectors in bulk", () => {
  it("gives the same top-k as reading row by row, across chunks and after upserts and a release, handing the loop back between chunks", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "index-exact-bulk-"));
    dirs.push(dir);
    const { index } = VectorIndex.open({ dir, shards: 4, maxIdsPerShard: 0, hnsw: { connectivity: 16, efAdd: 64, efSearch: 64 } });
    opened.push(index);
    const N = 10_000; // several 2,048-vector chunks
    for (const p of [0, 1]) {
      const records = Array.from({ length: N / 2 }, (_, i) => rec(`d${p}-${i}`, p * N + i + 1));
      index.apply(TOPIC, p, at(0, records), N / 2);
    }
    const check = (k: number) => {
      for (let q = 0; q < 8; q++) {
        const query = unit(direction(99_000 + q));
        const bulk = searchIndex(index, query, { k, exact: true });
        expect(bulk.mode).toBe("exact");
        expect(bulk.neighbors.map((n) => n.item.docId)).toEqual(rowByRow(index, query, k));
      }
    };
    check(10);
    check(100);
    // A document's own vector finds it first.
    expect(searchIndex(index, unit(direction(1 * N + 7 + 1)), { k: 1, exact: true }).neighbors[0]?.item.docId).toBe("d1-7");

    // Upserts: new keys at the end of the key order, the old ones gone.
    index.apply(TOPIC, 0, at(N / 2, Array.from({ length: 50 }, (_, i) => rec(`d0-${i}`, 500_000 + i))), N / 2 + 50);
    expect(searchIndex(index, unit(direction(500_003)), { k: 1, exact: true }).neighbors[0]?.item.docId).toBe("d0-3");
    check(10);

    // Steps: one per chunk.
    const steps = index.scanAll(unit(direction(5)), 10);
    let n = 0;
    for (let s = steps?.next(); s && !s.done; s = steps?.next()) n++;
    expect(n).toBe(Math.ceil(N / 2048) - 1);

    // A partition being released is read but left out.
    const release = index.releasePartition(TOPIC, 1);
    const hits = searchIndex(index, unit(direction(1 * N + 7 + 1)), { k: 20, exact: true }).neighbors;
    expect(hits).toHaveLength(20);
    expect(hits.some((h) => h.item.docId.startsWith("d1-"))).toBe(false);
    await release;
    check(10);
  }, 60_000);
});
