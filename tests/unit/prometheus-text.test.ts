import { describe, expect, it } from "vitest";
import { PrometheusText, formatValue } from "@/lib/metrics/prometheus";
import { indexerPrometheus, type IndexerMetricsView } from "@/lib/metrics/prometheus-indexer";
import { parsePrometheus } from "@/lib/metrics/prometheus-parse";
import { WorkerStats } from "@/workers/embed/stats";
import { ParseMetrics } from "@/workers/parse/metrics";
import { promtoolCheckMetrics } from "../harness/promtool";

const indexerJson: IndexerMetricsView = {
  started_ts: 1_700_000_000,
  records_in: 12,
  invalid_records: 1,
  inserted: 10,
  updated: 1,
  evicted: 0,
  refused_dim: 0,
  zero_vectors: 0,
  batches: 2,
  last_batch_ts: 1_700_000_010,
  last_batch_ms: 40,
  lag: { total: 3, partitions: { "0": 3, "2": 0 } },
  total_ids: 10,
  dim: 384,
  model: 'odd "model"\\name',
  queries: { count: 4, errors: 0, p50_ms: 1.5, p99_ms: null },
  exact_scans: { running: 0, waiting: 0, refused: 0 },
  recall_at_10: null,
  snapshots: { saved: 1, last_ts: null },
  mirror: { records: 0, failures: 0, refused: 0 },
  dead_letters: { total: 1, by_reason: { bad_vector: 1 }, produce_failures: 0 },
  batch_retries: 0,
  isolations: 0,
  stage_window: { records_per_sec: 2, p50_ms: 120, p99_ms: 480 } as IndexerMetricsView["stage_window"],
  instance: "indexer-1",
  partitions: [
    { partition: 0, state: "loading", applied: 7, end: 10 },
    { partition: 2, state: "live", applied: 5, end: 5 },
  ],
};

function parseWorkerSnapshot() {
  const m = new ParseMetrics();
  m.batchCommitted(5, 4, { empty_text: 1 }, [String(Date.now() - 50)]);
  return m.snapshot();
}

function embedWorkerExposition() {
  const s = new WorkerStats();
  s.recordBatch(8);
  s.recordCall(12);
  s.recordCall(4000);
  return s.prometheus({ paused: false, degraded: true, cache: { hits: 1, misses: 2, size: 2 } });
}

describe("PrometheusText", () => {
  it.each([
    ["an integer", 42, "42"],
    ["a fraction", 0.25, "0.25"],
    ["+Inf", Infinity, "+Inf"],
    ["-Inf", -Infinity, "-Inf"],
    ["NaN", NaN, "NaN"],
  ])("writes %s as the format spells it", (_what, value, spelled) => {
    expect(formatValue(value)).toBe(spelled);
  });

  it("writes HELP and TYPE before the samples, escapes help and label values, ends with a newline", () => {
    const out = new PrometheusText("x_").gauge("g", "back\\slash\nnewline", [{ labels: { v: 'a"b\\c\nd' }, value: 1 }]).toString();
    expect(out).toBe('# HELP x_g back\\\\slash\\nnewline\n# TYPE x_g gauge\nx_g{v="a\\"b\\\\c\\nd"} 1\n');
  });

  it("leaves out a sample with no value, and a family with none at all", () => {
    const out = new PrometheusText()
      .gauge("absent", "never measured", null)
      .gauge("some", "one of two", [{ labels: { p: 0 }, value: 1 }, { labels: { p: 1 }, value: null }])
      .toString();
    expect(out).not.toContain("absent");
    expect(out).toContain('some{p="0"} 1\n');
    expect(out).not.toContain('p="1"');
  });

  it("turns per-bucket counts into cumulative buckets, +Inf, sum and count", () => {
    const out = new PrometheusText().histogram("h_seconds", "h", { buckets: [0.1, 1], counts: [2, 3, 1], sum: 4.5 }).toString();
    expect(out.split("\n").filter((l) => !l.startsWith("#") && l !== "")).toEqual([
      'h_seconds_bucket{le="0.1"} 2',
      'h_seconds_bucket{le="1"} 5',
      'h_seconds_bucket{le="+Inf"} 6',
      "h_seconds_sum 4.5",
      "h_seconds_count 6",
    ]);
  });

  it.each([
    ["a metric name with a dash", (t: PrometheusText) => t.gauge("bad-name", "h", 1), /invalid Prometheus metric name/],
    ["a reserved label name", (t: PrometheusText) => t.gauge("ok", "h", [{ labels: { __name__: "x" }, value: 1 }]), /invalid Prometheus label name/],
    ["the same family twice", (t: PrometheusText) => t.gauge("twice", "h", 1).counter("twice", "h", 2), /written twice/],
    ["a histogram missing its overflow count", (t: PrometheusText) => t.histogram("h", "h", { buckets: [1, 2], counts: [1, 1], sum: 1 }), /need 3 counts/],
  ])("refuses %s rather than write a scrape Prometheus would reject", (_what, write, error) => {
    expect(() => write(new PrometheusText())).toThrow(error);
  });
});

// Prometheus' own parser and linter over every worker's /metrics/prometheus answer.
describe("every hand-written exposition passes promtool check metrics", () => {
  it("promtool rejects a broken exposition (so the checks below can fail)", () => {
    expect(promtoolCheckMetrics('# TYPE x counter\nx{a="unterminated} 1\n').status).not.toBe(0);
  });

  it.each([
    ["parse worker", () => parsePrometheus(parseWorkerSnapshot()), ["embedline_parse_records_in_total 5", 'embedline_parse_dlq_records_by_reason_total{reason="empty_text"} 1']],
    ["emb-indexer", () => indexerPrometheus(indexerJson), ['embedline_indexer_partition_live{partition="0"} 0', 'embedline_indexer_partition_live{partition="2"} 1', 'embedline_indexer_consumer_lag{partition="0"} 3', "embedline_indexer_documents 10"]],
    ["embed-worker", embedWorkerExposition, ["embedline_embed_worker_records_in_total 0", 'embedline_embed_worker_embed_duration_seconds_bucket{le="0.025"} 1', 'embedline_embed_worker_embed_duration_seconds_bucket{le="+Inf"} 2', "embedline_embed_worker_degraded 1"]],
  ])("%s", (_name, render, expected) => {
    const exposition = render();
    const { status, output } = promtoolCheckMetrics(exposition);
    expect(output).toBe("");
    expect(status).toBe(0);
    for (const line of expected) expect(exposition.split("\n")).toContain(line);
  });

  it("leaves out the indexer's figures nobody measured yet rather than report 0", () => {
    const exposition = indexerPrometheus(indexerJson);
    expect(exposition).not.toContain("embedline_indexer_recall_at_10");
    expect(exposition).not.toContain("embedline_indexer_query_latency_p99_seconds");
    expect(exposition).toContain("embedline_indexer_query_latency_p50_seconds 0.0015\n");
  });
});
