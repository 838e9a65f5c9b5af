import { describe, expect, it } from "vitest";
import { mergeIndexerHealth, mergeIndexerMetrics } from "@/lib/upstreams/indexer-figures";
import { stageFigures } from "@/lib/upstreams/stage";

/** An indexer's /metrics as workers/indexer/metrics.ts writes it (the fields the console reads, and a few it shows). */
const metrics = (o: { instance: string; total: number; recall: number | null; rps: number; p99: number; lag: Record<string, number>; partitions: number[]; ef: number }) => ({
  instance: o.instance,
  partitions: o.partitions.map((partition) => ({ partition, state: "live", applied: 5, end: 5 })),
  started_ts: 1000,
  uptime_s: 60,
  records_in: o.total * 2,
  total_ids: o.total,
  dim: 384,
  model: "all-MiniLM-L6-v2",
  lag: { total: Object.values(o.lag).reduce((a, b) => a + b, 0), partitions: o.lag },
  queries: { count: 10, errors: 1, p50_ms: o.p99 / 4, p99_ms: o.p99 },
  recall_at_10: o.recall,
  recall: { recall_at_10: o.recall, trend: 0, direction: "steady", ef_search: o.ef, history: [{ ts: 1, recall_at_10: o.recall }] },
  stage_window: { records_per_sec: o.rps, records: o.rps * 60, p50_ms: o.p99 / 2, p99_ms: o.p99, window_sec: 60 },
});

describe("the indexers' /metrics as one", () => {
  const a = metrics({ instance: "a", total: 300, recall: 0.9, rps: 40, p99: 12, lag: { 0: 3, 2: 0 }, partitions: [0, 2], ef: 64 });
  const b = metrics({ instance: "b", total: 100, recall: 1, rps: 10, p99: 30, lag: { 1: 7 }, partitions: [1], ef: 128 });
  const merged = mergeIndexerMetrics([a, b]);

  it.each([
    { field: "total_ids (summed: the Overview's vectors)", path: ["total_ids"], want: 400 },
    { field: "records_in (summed)", path: ["records_in"], want: 800 },
    { field: "recall_at_10 (weighted by documents held)", path: ["recall_at_10"], want: 0.925 },
    { field: "recall.recall_at_10 (the same)", path: ["recall", "recall_at_10"], want: 0.925 },
    { field: "recall.ef_search (the largest)", path: ["recall", "ef_search"], want: 128 },
    { field: "lag.total (summed)", path: ["lag", "total"], want: 10 },
    { field: "lag per partition (the union)", path: ["lag", "partitions"], want: { 0: 3, 1: 7, 2: 0 } },
    { field: "query p99 (the largest)", path: ["queries", "p99_ms"], want: 30 },
    { field: "queries counted (summed)", path: ["queries", "count"], want: 20 },
    { field: "dim (not summed)", path: ["dim"], want: 384 },
    { field: "uptime (not summed)", path: ["uptime_s"], want: 60 },
    { field: "model (the first)", path: ["model"], want: "all-MiniLM-L6-v2" },
    { field: "instance (none speaks for all)", path: ["instance"], want: null },
    { field: "a recall history is one instance's series", path: ["recall", "history"], want: a.recall.history },
  ])("$field", ({ path, want }) => {
    const got = path.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], merged);
    if (typeof want === "number") expect(got).toBeCloseTo(want, 10);
    else expect(got).toEqual(want);
  });

  it("the index stage of the whole: records/s summed, latency the largest", () => {
    expect(stageFigures(merged)).toEqual({ records_per_sec: 50, records: 3000, p50_ms: 15, p99_ms: 30, window_sec: 60 });
  });

  it("owned partitions listed together", () => {
    expect((merged.partitions as { partition: number }[]).map((p) => p.partition)).toEqual([0, 2, 1]);
  });

  it("recall without documents held: the plain mean; one instance: its own figures", () => {
    const empty = mergeIndexerMetrics([{ total_ids: 0, recall_at_10: 0.8 }, { total_ids: 0, recall_at_10: 1 }]);
    expect(empty.recall_at_10).toBeCloseTo(0.9, 10);
    expect(mergeIndexerMetrics([a])).toBe(a);
  });
});

describe("the indexers' /health as one", () => {
  it.each([
    { name: "all ok", bodies: [{ status: "ok", total_ids: 3 }, { status: "ok", total_ids: 4 }], status: "ok", reasons: 0, total: 7 },
    { name: "one degraded", bodies: [{ status: "ok", total_ids: 3 }, { status: "degraded", reasons: [{ component: "kafka", reason: "x" }], total_ids: 4 }], status: "degraded", reasons: 1, total: 7 },
    { name: "one did not answer", bodies: [{ status: "ok", total_ids: 3 }, null], status: "degraded", reasons: 1, total: 3 },
    { name: "one starting", bodies: [{ status: "starting", total_ids: 0 }, { status: "ok", total_ids: 4 }], status: "starting", reasons: 0, total: 4 },
  ])("$name → $status", ({ bodies, status, reasons, total }) => {
    const h = mergeIndexerHealth(bodies.map((body, i) => ({ instance: `i${i}`, body })))!;
    expect(h.status).toBe(status);
    expect(h.reasons).toHaveLength(reasons);
    expect(h.total_ids).toBe(total);
  });

  it("names the instance that did not answer", () => {
    expect(mergeIndexerHealth([{ instance: "a", body: { status: "ok" } }, { instance: "b", body: null }])!.reasons).toEqual([{ component: "indexer b", reason: "did not answer" }]);
  });
});
