import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { searchIndex } from "../../lib/index/search";
import { VectorIndex, type IncomingRecord } from "../../lib/index/vector-index";
import type { EmbeddingRecord } from "../../lib/records/embedding-record";
import { indexFixtures } from "./index-fixtures";

// The graph is written on another thread (usearch's saveAsync, patches/usearch+*.patch) while
// searches go on; adds and removes made meanwhile are held back and applied when it is written.

const HNSW = { connectivity: 16, efAdd: 64, efSearch: 64 };
const { open, close, tempDir } = indexFixtures("index-snapshot-save-test-", HNSW);

const spread = (i: number) => Array.from({ length: 16 }, (_, d) => Math.sin(i * 1.7 + d * 2.3) + 0.3 * Math.cos(i * 0.37 * (d + 1)));
const rec = (i: number): EmbeddingRecord => ({ topic: "t", text: "x", doc_id: `doc-${i}`, vector: spread(i), kafka_ts: 1, embedded_ts: 100, model: "m", dim: 16, normalized: false });
const at = (first: number, records: EmbeddingRecord[]): IncomingRecord[] => records.map((record, i) => ({ offset: first + i, record }));
const ids = (r: ReturnType<typeof searchIndex>) => r.neighbors.map((n) => n.item.docId);

function fill(index: VectorIndex, from: number, n: number): void {
  index.apply("e", 0, at(from, Array.from({ length: n }, (_, j) => rec(from + j))), from + n);
}

describe("saving the graph without holding the thread", () => {
  it("answers while the graph is written, with what changed meanwhile, and applies those changes after", async () => {
    const dir = tempDir();
    const { index } = open(dir);
    fill(index, 0, 3000);
    const saving = index.snapshot();
    // A synchronous save would have ended before snapshot() returned.
    expect(index.graph?.saving).toBe(true);

    // Kafka batches keep arriving: one adds documents, an upsert replaces doc-10 (its old key removed).
    fill(index, 3000, 200);
    index.apply("e", 0, at(3200, [{ ...rec(5000), doc_id: "doc-10" }]), 3201);
    expect(index.graph?.saving).toBe(true);
    expect(index.graph?.size).toBe(3200);
    const added = searchIndex(index, index.locate("doc-3100")!.vector, { k: 5, exact: false });
    expect(added.mode).toBe("hnsw");
    expect(ids(added)[0]).toBe("doc-3100");
    // doc-10 answers with its new vector: the replaced one is left out.
    const upserted = searchIndex(index, Float32Array.from(spread(5000)), { k: 1, exact: false });
    expect(ids(upserted)).toEqual(["doc-10"]);
    expect(ids(searchIndex(index, Float32Array.from(spread(10)), { k: 1, exact: false }))).not.toEqual(["doc-10"]);

    expect(await saving).toBe(1);
    expect(index.graph?.saving).toBe(false);
    expect(index.graph?.size).toBe(3200);
    expect(ids(searchIndex(index, index.locate("doc-3100")!.vector, { k: 1, exact: false }))).toEqual(["doc-3100"]);
    await close(index);

    // The snapshot holds the 3,000 documents of when it began; what came after is replayed from LMDB.
    const { index: reopened, report } = open(dir);
    expect(report).toMatchObject({ graph: "restored", replayedKeys: 202 });
    expect(reopened.graph?.size).toBe(3200);
    expect(ids(searchIndex(reopened, Float32Array.from(spread(5000)), { k: 1, exact: false }))).toEqual(["doc-10"]);
  });

  it("waits for a running write before starting the next, and saves only what changed", async () => {
    const { index } = open(tempDir());
    fill(index, 0, 1000);
    const first = index.snapshot();
    fill(index, 1000, 100);
    const second = index.snapshot();
    expect(await Promise.all([first, second])).toEqual([1, 1]);
    expect(await index.snapshot()).toBe(0);
  });

  it("keeps the changes and the previous snapshot when the write fails", async () => {
    const dir = tempDir();
    const { index } = open(dir);
    fill(index, 0, 500);
    expect(await index.snapshot()).toBe(1);
    fill(index, 500, 100);
    mkdirSync(path.join(dir, "hnsw", "g2.usearch")); // the next generation's file cannot be written
    const failing = index.snapshot();
    fill(index, 600, 50);
    await expect(failing).rejects.toThrow();
    expect(index.graph?.saving).toBe(false);
    expect(index.graph?.size).toBe(650);
    expect(ids(searchIndex(index, index.locate("doc-620")!.vector, { k: 1, exact: false }))).toEqual(["doc-620"]);
    rmSync(path.join(dir, "hnsw", "g2.usearch"), { recursive: true });
    expect(await index.snapshot()).toBe(1);
    await close(index);
    expect(open(dir).report).toMatchObject({ graph: "restored", replayedKeys: 0 });
  });
});
