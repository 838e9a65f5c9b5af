import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EfTuner } from "../../lib/index/ef-tuner";
import { RecallMonitor } from "../../lib/index/recall-monitor";
import { VectorIndex } from "../../lib/index/vector-index";

describe("EfTuner: ef just large enough for the recall target", () => {
  it("doubles ef after each check below target, up to the ceiling", () => {
    const t = new EfTuner(64, 512, 0.95);
    expect(t.current).toBe(64);
    expect(t.observe(0.8)).toBe(128);
    expect(t.observe(0.9)).toBe(256);
    expect(t.observe(0.94)).toBe(512);
    expect(t.observe(0.5)).toBe(512);
  });

  it("halves ef only after ten comfortable checks in a row, never below the configured ef", () => {
    const t = new EfTuner(64, 1024, 0.95);
    t.observe(0.9);
    t.observe(0.9);
    expect(t.current).toBe(256);
    for (let i = 0; i < 9; i++) expect(t.observe(0.99)).toBe(256);
    // A check merely at target breaks the run.
    expect(t.observe(0.96)).toBe(256);
    for (let i = 0; i < 9; i++) t.observe(0.99);
    expect(t.observe(0.99)).toBe(128);
    for (let i = 0; i < 10; i++) t.observe(0.99);
    expect(t.current).toBe(64);
    for (let i = 0; i < 30; i++) t.observe(1);
    expect(t.current).toBe(64);
  });
});

describe("RecallMonitor with an EfTuner", () => {
  const dirs: string[] = [];
  const opened: VectorIndex[] = [];
  afterEach(async () => {
    for (const index of opened.splice(0)) await index.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("checks recall at the tuner's ef, reports it, and hands the result to the tuner", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ef-tuner-test-"));
    dirs.push(dir);
    const { index } = VectorIndex.open({ dir, shards: 4, maxIdsPerShard: 0, hnsw: { connectivity: 16, efAdd: 64, efSearch: 16 } });
    opened.push(index);
    const vector = (i: number) => Array.from({ length: 16 }, (_, d) => Math.sin(i * 1.7 + d * 2.3) + 0.3 * Math.cos(i * 0.37 * (d + 1)));
    const records = Array.from({ length: 3000 }, (_, i) => ({ offset: i, record: { topic: "t", text: "x", doc_id: `doc-${i}`, vector: vector(i), kafka_ts: 1, embedded_ts: 1, model: "m", dim: 16, normalized: false } }));
    index.apply("e", 0, records, 3000);

    const seen: number[] = [];
    const tuner = new EfTuner(16, 256, 0.95);
    const observe = tuner.observe.bind(tuner);
    tuner.observe = (recall) => (seen.push(recall), observe(recall));
    const monitor = new RecallMonitor(index, 8, tuner);
    expect(monitor.ef).toBe(16);
    const sample = await monitor.check();
    expect(sample?.ef).toBe(16);
    expect(seen).toEqual([sample?.recall]);
    expect(monitor.report().ef_search).toBe(tuner.current);
    expect(monitor.ef).toBe(sample!.recall < 0.95 ? 32 : 16);
  });
});
