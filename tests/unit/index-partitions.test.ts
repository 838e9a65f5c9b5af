import path from "node:path";
import { open as lmdbOpen } from "lmdb";
import { describe, expect, it } from "vitest";
import { searchIndex } from "../../lib/index/search";
import { VectorIndex, type IncomingRecord } from "../../lib/index/vector-index";
import type { EmbeddingRecord } from "../../lib/records/embedding-record";
import { indexFixtures } from "./index-fixtures";

const HNSW = { connectivity: 16, efAdd: 64, efSearch: 64 };
const TOPIC = "embeddings";
const { open, close, tempDir } = indexFixtures("index-partitions-", HNSW);

/** A deterministic 16-dim direction per document. */
const spread = (i: number) => Array.from({ length: 16 }, (_, d) => Math.sin(i * 1.7 + d * 2.3) + 0.1 * Math.cos(i * d));

function rec(docId: string, vector: number[]): EmbeddingRecord {
  return { topic: "t", text: docId, doc_id: docId, vector, kafka_ts: 1, embedded_ts: 100, model: "m", dim: vector.length, normalized: false };
}

const at = (first: number, records: EmbeddingRecord[]): IncomingRecord[] => records.map((record, i) => ({ offset: first + i, record }));

/** Partition p holds docs p-0 … p-(PER-1): enough in all that queries go through the graph (≥ 1000 in scope). */
const PER = 600;
const docsOf = (p: number) => Array.from({ length: PER }, (_, i) => `p${p}-${i}`);
const seedOf = (docId: string) => Number(docId.slice(1, 2)) * PER + Number(docId.split("-")[1]);

function fill(index: VectorIndex) {
  for (const p of [0, 1, 2]) index.apply(TOPIC, p, at(0, docsOf(p).map((id) => rec(id, spread(seedOf(id))))), PER);
}

const queryOf = (docId: string) => {
  const v = Float32Array.from(spread(seedOf(docId)));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

describe("VectorIndex partition ownership", () => {
  it("lists the partitions it holds documents or an offset of", () => {
    const { index } = open(tempDir());
    fill(index);
    index.advanceOffset(TOPIC, 5, 3);
    expect(index.partitionsHeld(TOPIC)).toEqual([0, 1, 2, 5]);
    expect(index.partitionsHeld("other")).toEqual([]);
    expect(index.row("p1-3")?.partition).toBe(1);
  });

  it("release removes exactly that partition's documents and offset, from LMDB, memory and the graph", async () => {
    const dir = tempDir();
    const { index } = open(dir);
    fill(index);
    await index.snapshot(); // the saved graph still holds partition 1: reopening must not bring it back
    expect(index.release(TOPIC, 1)).toBe(PER);

    const check = (ix: VectorIndex) => {
      expect(ix.totalIds).toBe(2 * PER);
      expect(ix.graph?.size).toBe(2 * PER);
      expect(ix.nextOffset(TOPIC, 1)).toBeUndefined();
      expect(ix.nextOffset(TOPIC, 0)).toBe(PER);
      expect(ix.partitionsHeld(TOPIC)).toEqual([0, 2]);
      for (const id of docsOf(1)) {
        expect(ix.locate(id)).toBeUndefined();
        expect(ix.row(id)).toBeUndefined();
      }
      for (const id of [...docsOf(0), ...docsOf(2)]) expect(ix.locate(id)?.meta.docId).toBe(id);
      for (const exact of [true, false]) {
        // A released document's own vector no longer finds it; a kept one's still does, first.
        const gone = searchIndex(ix, queryOf("p1-7"), { k: 10, exact });
        expect(gone.neighbors.some((n) => n.item.docId.startsWith("p1-"))).toBe(false);
        expect(gone.mode).toBe(exact ? "exact" : "hnsw");
        const kept = searchIndex(ix, queryOf("p2-7"), { k: 10, exact });
        expect(kept.neighbors[0]?.item.docId).toBe("p2-7");
      }
    };
    check(index);
    await close(index);
    const reopened = open(dir);
    expect(reopened.report.docs).toBe(2 * PER);
    check(reopened.index);
  });

  it("takes a released partition back from the start of the topic", () => {
    const { index } = open(tempDir());
    fill(index);
    index.release(TOPIC, 2);
    const again = index.apply(TOPIC, 2, at(0, docsOf(2).map((id) => rec(id, spread(seedOf(id))))), PER);
    expect(again).toMatchObject({ alreadyApplied: 0, inserted: PER, updated: 0 });
    expect(index.totalIds).toBe(3 * PER);
    expect(searchIndex(index, queryOf("p2-9"), { k: 1, exact: false }).neighbors[0]?.item.docId).toBe("p2-9");
  });

  it("leaves a document that moved to another partition when its old partition is released", () => {
    const { index } = open(tempDir());
    fill(index);
    index.apply(TOPIC, 0, at(PER, [rec("p1-4", spread(seedOf("p1-4")))]), PER + 1);
    expect(index.release(TOPIC, 1)).toBe(PER - 1);
    expect(index.row("p1-4")?.partition).toBe(0);
    expect(index.locate("p1-4")).toBeDefined();
    expect(index.release(TOPIC, 0)).toBe(PER + 1);
    expect(index.locate("p1-4")).toBeUndefined();
  });

  /** No document of partition `p` in any answer: exact and graph searches by its own documents' vectors, lookups by doc_id. */
  const expectLeftOut = (ix: VectorIndex, p: number) => {
    for (const exact of [true, false]) {
      const hits = searchIndex(ix, queryOf(`p${p}-7`), { k: 10, exact }).neighbors;
      expect(hits).toHaveLength(10);
      expect(hits.some((n) => n.item.docId.startsWith(`p${p}-`))).toBe(false);
    }
    for (const id of docsOf(p)) expect(ix.locate(id)).toBeUndefined();
    expect(ix.recentDocIds(50).some((id) => id.startsWith(`p${p}-`))).toBe(false);
  };

  /** After a finished release of partition 1: exactly 0 and 2 held, in LMDB, memory and the graph; 1 can be rebuilt from the topic. */
  const expectReleased = (ix: VectorIndex) => {
    expect(ix.releasing(TOPIC)).toEqual([]);
    expect(ix.totalIds).toBe(2 * PER);
    expect(ix.graph?.size).toBe(2 * PER);
    expect(ix.partitionsHeld(TOPIC)).toEqual([0, 2]);
    for (const id of docsOf(1)) expect(ix.row(id)).toBeUndefined();
    expect(searchIndex(ix, queryOf("p2-300"), { k: 1, exact: false }).neighbors[0]?.item.docId).toBe("p2-300");
    expect(ix.apply(TOPIC, 1, at(0, docsOf(1).map((id) => rec(id, spread(seedOf(id))))), PER)).toMatchObject({ alreadyApplied: 0, inserted: PER });
    expect(searchIndex(ix, queryOf("p1-300"), { k: 1, exact: false }).neighbors[0]?.item.docId).toBe("p1-300");
  };

  it("releases in steps, handing the event loop back between them; the partition is out of answers and refuses batches from the first step", async () => {
    const { index } = open(tempDir());
    fill(index);
    const steps: number[] = [];
    let ticks = 0;
    let ticking = true;
    const tick = () => {
      ticks++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const release = index.releasePartition(TOPIC, 1, { stepMs: 1, onStep: (n) => steps.push(n) });
    // Before the release's first await: already another instance's partition.
    expect(index.releasing(TOPIC)).toEqual([1]);
    expect(index.nextOffset(TOPIC, 1)).toBeUndefined();
    expectLeftOut(index, 1);
    // The graph still answers (asked for more candidates), rather than every query falling back to a scan.
    expect(index.hiddenIds).toBe(PER - (steps.at(-1) ?? 0)); // the first step runs before releasePartition returns
    const meanwhile = searchIndex(index, queryOf("p0-300"), { k: 10, exact: false });
    expect(meanwhile).toMatchObject({ mode: "hnsw" });
    expect(meanwhile.neighbors[0]?.item.docId).toBe("p0-300");
    expect(() => index.apply(TOPIC, 1, at(PER, [rec("p1-new", spread(1))]), PER + 1)).toThrow(/being released/);
    expect(() => index.advanceOffset(TOPIC, 1, PER + 1)).toThrow(/being released/);
    expect(() => index.release(TOPIC, 1)).toThrow(/already being released/);
    expect(index.releasePartition(TOPIC, 1)).toBe(release);
    // Other partitions take batches meanwhile.
    index.apply(TOPIC, 0, at(PER, [rec("p0-new", spread(9999))]), PER + 1);

    expect(await release).toBe(PER);
    ticking = false;
    expect(steps.length).toBeGreaterThan(2);
    expect(steps.at(-1)).toBe(PER);
    // The loop ran between the steps.
    expect(ticks).toBeGreaterThanOrEqual(steps.length - 1);
    index.release(TOPIC, 0); // back to partitions 0 and 2 of PER documents each
    fill(index);
    await index.releasePartition(TOPIC, 1);
    expectReleased(index);
  });

  it.each([
    { name: "the partition stays with another instance", back: false },
    { name: "the partition comes back to this instance", back: true },
  ])("a release interrupted half-way leaves its partition out of answers after a restart, and the next assignment finishes it ($name)", async ({ back }) => {
    const dir = tempDir();
    const { index } = open(dir);
    fill(index);
    await index.snapshot(); // the saved graph holds all of partition 1
    const stop = new AbortController();
    let removedBeforeStop = 0;
    const interrupted = index.releasePartition(TOPIC, 1, { signal: stop.signal, onStep: (n) => ((removedBeforeStop = n), stop.abort()) });
    await expect(interrupted).rejects.toThrow();
    expect(removedBeforeStop).toBeGreaterThan(0);
    expect(removedBeforeStop).toBeLessThan(PER);
    expect(docsOf(1).filter((id) => index.row(id)).length).toBe(PER - removedBeforeStop);
    await close(index);

    const { index: reopened, report } = open(dir);
    expect(report.docs).toBe(3 * PER - removedBeforeStop);
    expect(reopened.releasing(TOPIC)).toEqual([1]);
    expect(reopened.nextOffset(TOPIC, 1)).toBeUndefined();
    expect(reopened.partitionsHeld(TOPIC)).toEqual([0, 1, 2]); // still to release: the consumer releases what it holds and does not own
    expectLeftOut(reopened, 1);
    expect(() => reopened.apply(TOPIC, 1, at(0, [rec("p1-0", spread(seedOf("p1-0")))]), 1)).toThrow(/being released/);
    // The next assignment: the consumer releases it whether assigned elsewhere or here (here: then rebuilt from the topic's start).
    void back;
    expect(await reopened.releasePartition(TOPIC, 1)).toBe(PER - removedBeforeStop);
    expectReleased(reopened);
  });

  it("leaves out a partition being released in an index whose recency entries predate the partition kept beside them", async () => {
    const dir = tempDir();
    const { index } = open(dir);
    fill(index);
    await close(index);
    const raw = lmdbOpen({ path: path.join(dir, "lmdb"), maxDbs: 8, compression: false });
    const recency = raw.openDB<unknown[], [number, number]>({ name: "recency" });
    raw.transactionSync(() => {
      for (const { key, value } of [...recency.getRange({})]) recency.putSync(key as [number, number], value.slice(0, 4));
    });
    await raw.close();
    const { index: reopened } = open(dir);
    const release = reopened.releasePartition(TOPIC, 1);
    expectLeftOut(reopened, 1);
    expect(await release).toBe(PER);
    expectReleased(reopened);
  });

  it("empties an index written before rows kept their partition, to be rebuilt from the topic", async () => {
    const dir = tempDir();
    const { index } = open(dir);
    fill(index);
    await index.snapshot();
    await close(index);
    // What an older version left: no layout in the meta database.
    const raw = lmdbOpen({ path: path.join(dir, "lmdb"), maxDbs: 8, compression: false });
    raw.openDB({ name: "meta" }).removeSync("layout");
    await raw.close();

    const legacy = open(dir);
    expect(legacy.report).toMatchObject({ emptied: "no-partitions", docs: 0, graph: "empty" });
    expect(legacy.index.totalIds).toBe(0);
    expect(legacy.index.partitionsHeld(TOPIC)).toEqual([]);
    expect(legacy.index.nextOffset(TOPIC, 0)).toBeUndefined();
    legacy.index.apply(TOPIC, 0, at(0, docsOf(0).map((id) => rec(id, spread(seedOf(id))))), PER);
    await close(legacy.index);
    // Emptied once: the rebuilt index opens as it is.
    const rebuilt = open(dir);
    expect(rebuilt.report).toMatchObject({ emptied: null, docs: PER });
  });
});
