import { afterEach, describe, expect, it, vi } from "vitest";
import { percentile, STAGE_SAMPLES_MAX, StageWindow } from "@/lib/metrics/stage-window";
import { WorkerStats } from "@/workers/embed/stats";
import { IndexerMetrics } from "@/workers/indexer/metrics";
import { ParseMetrics } from "@/workers/parse/metrics";

// Each stage's records/s and p50/p99 over the last minute, as its /metrics serves them.

const T0 = 1_800_000_000_000;
const recall = { recall_at_10: null } as never;

function clock(start = T0) {
  const c = { now: start, fn: () => c.now };
  return c;
}

describe("percentile (nearest rank)", () => {
  it.each([
    { values: [], p: 50, want: null },
    { values: [7], p: 99, want: 7 },
    { values: [1, 2, 3, 4], p: 50, want: 2 },
    { values: Array.from({ length: 100 }, (_, i) => i + 1), p: 99, want: 99 },
    { values: Array.from({ length: 100 }, (_, i) => i + 1), p: 50, want: 50 },
  ])("p$p of $values.length values is $want", ({ values, p, want }) => {
    expect(percentile(values, p)).toBe(want);
  });
});

describe("StageWindow", () => {
  it("reports nothing through the stage before any record", () => {
    const c = clock();
    c.now += 60_000;
    expect(new StageWindow({ now: c.fn }).snapshot()).toEqual({ window_sec: 60, records: 0, records_per_sec: 0, p50_ms: null, p99_ms: null, max_ms: null, samples: 0 });
  });

  it("takes p50/p99 of the latencies from Kafka timestamp to commit, and the rate over the time covered", () => {
    const c = clock();
    const w = new StageWindow({ now: c.fn });
    c.now += 10_000;
    // 98 records that waited 100 ms, one 2 s, one 5 s.
    const ts = [...Array.from({ length: 98 }, () => String(c.now - 100)), String(c.now - 2_000), String(c.now - 5_000)];
    w.observe(ts);
    const s = w.snapshot();
    expect(s).toMatchObject({ records: 100, samples: 100, p50_ms: 100, p99_ms: 2_000, max_ms: 5_000 });
    // 100 records in the first 10 s of the worker's life: 10/s, not 100/60.
    expect(s.records_per_sec).toBe(10);
  });

  it("forgets what is older than the window: latencies and rate", () => {
    const c = clock();
    const w = new StageWindow({ now: c.fn });
    c.now += 120_000;
    w.observe([String(c.now - 30_000)]);
    c.now += 30_000;
    w.observe([String(c.now - 50)]);
    expect(w.snapshot()).toMatchObject({ records: 2, p50_ms: 50, p99_ms: 30_000 });
    c.now += 45_000;
    expect(w.snapshot()).toMatchObject({ records: 1, p50_ms: 50, p99_ms: 50, records_per_sec: Number((1 / 60).toFixed(2)) });
    c.now += 60_000;
    expect(w.snapshot()).toMatchObject({ records: 0, samples: 0, p50_ms: null, p99_ms: null, records_per_sec: 0 });
  });

  it("keeps at most its capacity of latencies (the newest), while the rate still counts every record", () => {
    const c = clock();
    const w = new StageWindow({ now: c.fn, capacity: 10 });
    c.now += 60_000;
    w.observe(Array.from({ length: 90 }, () => String(c.now - 9_000)));
    w.observe(Array.from({ length: 10 }, () => String(c.now - 10)));
    const s = w.snapshot();
    expect(s).toMatchObject({ records: 100, samples: 10, p50_ms: 10, p99_ms: 10 });
    expect(STAGE_SAMPLES_MAX).toBe(4096);
  });

  it("counts records without a usable timestamp for the rate only, and a clock skew as no wait", () => {
    const c = clock();
    const w = new StageWindow({ now: c.fn });
    c.now += 60_000;
    w.observe([null, undefined, "-1", "", String(c.now + 5_000), String(c.now - 40)]);
    expect(w.snapshot()).toMatchObject({ records: 6, samples: 2, p50_ms: 0, p99_ms: 40 });
  });
});

describe("each worker's /metrics carries stage_window", () => {
  afterEach(() => vi.useRealTimers());

  it("parse: raw record's Kafka timestamp → its batch's transaction committed", () => {
    const c = clock();
    const metrics = new ParseMetrics(c.fn);
    c.now += 60_000;
    metrics.batchCommitted(3, 2, { empty_text: 1 }, [String(c.now - 200), String(c.now - 300), String(c.now - 4_000)]);
    expect(metrics.snapshot().stage_window).toMatchObject({ records: 3, p50_ms: 300, p99_ms: 4_000, records_per_sec: 0.05 });
  });

  it("embed and index: the input record's Kafka timestamp → committed / applied", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
    const stats = new WorkerStats();
    const index = new IndexerMetrics();
    vi.setSystemTime(T0 + 60_000);
    stats.stage.observe([String(T0 + 59_000)]);
    index.stage.observe([String(T0 + 59_990), String(T0 + 59_980)]);
    expect(stats.json({ paused: false, status: "ok" }).stage_window).toMatchObject({ records: 1, p50_ms: 1_000, p99_ms: 1_000 });
    expect(index.toJSON({ total_ids: 0, dim: null, model: null, recall }).stage_window).toMatchObject({ records: 2, p50_ms: 10, p99_ms: 20 });
    const prom = stats.prometheus({ paused: false, degraded: false });
    expect(prom).toContain("embedline_embed_worker_stage_latency_p99_seconds 1\n");
    expect(prom).toContain("embedline_embed_worker_stage_records_per_second 0.02\n");
    vi.setSystemTime(T0 + 180_000);
    // Nothing in the last minute: no latency gauge rather than a made-up 0.
    expect(stats.prometheus({ paused: false, degraded: false })).not.toContain("stage_latency_p50_seconds");
  });
});
