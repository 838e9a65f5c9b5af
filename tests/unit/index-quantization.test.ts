import { describe, expect, it } from "vitest";
import type { Quantization } from "../../lib/index/hnsw";
import { searchIndex } from "../../lib/index/search";
import { shardStats } from "../../lib/index/stats";
import { VectorIndex, type IncomingRecord } from "../../lib/index/vector-index";
import type { EmbeddingRecord } from "../../lib/records/embedding-record";
import { indexFixtures } from "./index-fixtures";

const DIM = 48;
const DOCS = 1500;
const fixtures = indexFixtures("index-quant-", { connectivity: 16, efAdd: 64, efSearch: 64 });
const { close, tempDir } = fixtures;
const open = (dir: string, quantization: Quantization) => fixtures.open(dir, { hnsw: { quantization } });

/** Deterministic pseudo-random vectors (mulberry32) with clusters, as embeddings have. */
function vectors(n: number, seed: number): number[][] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
  const centres = Array.from({ length: 20 }, () => Array.from({ length: DIM }, rand));
  return Array.from({ length: n }, (_, i) => (centres[i % 20] as number[]).map((c) => c + 0.4 * rand()));
}

const docs = vectors(DOCS, 7);
const queries = vectors(40, 99).map((v) => {
  const n = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / n);
});
const records: IncomingRecord[] = docs.map((vector, i) => ({ offset: i, record: { topic: "t", text: `d${i}`, doc_id: `d${i}`, vector, kafka_ts: 1, embedded_ts: 2, model: "m", dim: DIM, normalized: false } satisfies EmbeddingRecord }));

function recallAt10(index: VectorIndex): number {
  let sum = 0;
  for (const q of queries) {
    const truth = new Set(searchIndex(index, q, { k: 10, exact: true }).neighbors.map((n) => n.item.docId));
    const approx = searchIndex(index, q, { k: 10, exact: false });
    expect(approx.mode).toBe("hnsw");
    sum += approx.neighbors.filter((n) => truth.has(n.item.docId)).length / 10;
  }
  return sum / queries.length;
}

describe("INDEX_QUANTIZATION", () => {
  const exactAnswers = new Map<Quantization, string[][]>();

  it.each([
    { quantization: "f32" as const, minRecall: 0.9, graphBytes: DIM * 4 },
    { quantization: "f16" as const, minRecall: 0.9, graphBytes: DIM * 2 },
    { quantization: "i8" as const, minRecall: 0.8, graphBytes: DIM },
  ])("$quantization: the graph answers at recall@10 ≥ $minRecall, exact answers read LMDB's f32 and agree across quantizations", ({ quantization, minRecall, graphBytes }) => {
    const { index, report } = open(tempDir(), quantization);
    expect(report.quantization).toBe(quantization);
    index.apply("embeddings", 0, records, DOCS);
    expect(index.graphVectorBytes).toBe(graphBytes);
    expect(recallAt10(index)).toBeGreaterThanOrEqual(minRecall);
    const exact = queries.map((q) => searchIndex(index, q, { k: 10, exact: true }).neighbors.map((n) => n.item.docId));
    exactAnswers.set(quantization, exact);
    if (quantization !== "f32") expect(exact).toEqual(exactAnswers.get("f32"));
    // The Shards page's memory estimate counts the graph's vectors at their stored size.
    const perDoc = shardStats(index).shards.reduce((n, s) => n + s.bytes, 0) / DOCS;
    expect(perDoc).toBeGreaterThan(graphBytes);
    expect(perDoc).toBeLessThan(graphBytes + 16 * 2 * 4 + 100);
  });

  it("one pass over a shard gives every query its exact top-k (the recall monitor's samples)", () => {
    const { index } = open(tempDir(), "i8");
    index.apply("embeddings", 0, records, DOCS);
    const flat = new Float32Array(queries.length * DIM);
    queries.forEach((q, i) => flat.set(q, i * DIM));
    const perShard = index.shards.map((shard) => shard.searchExactMany(flat, 10));
    queries.forEach((q, i) => {
      const merged = perShard.flatMap((tops) => tops[i] ?? []).sort((a, b) => b.score - a.score).slice(0, 10);
      const exact = searchIndex(index, q, { k: 10, exact: true }).neighbors;
      expect(merged.map((h) => h.item)).toEqual(exact.map((n) => n.item.key));
    });
  });

  it("a saved graph is used by the same quantization and rebuilt from LMDB by another", async () => {
    const dir = tempDir();
    const { index } = open(dir, "f16");
    index.apply("embeddings", 0, records, DOCS);
    await index.snapshot();
    await close(index);

    const same = open(dir, "f16");
    expect(same.report).toMatchObject({ graph: "restored", snapshotUnusable: null, docs: DOCS });
    await close(same.index);

    const other = open(dir, "i8");
    expect(other.report).toMatchObject({ graph: "rebuilt", snapshotUnusable: "params", quantization: "i8", docs: DOCS });
    expect(other.index.graph?.size).toBe(DOCS);
    expect(recallAt10(other.index)).toBeGreaterThanOrEqual(0.8);
  });
});
