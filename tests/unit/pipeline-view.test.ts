/**
 * The Overview's pipeline view (issue 14, item 5): records/s and p50/p99 per
 * stage over the window, from the spark (parse), embed-worker and indexer
 * events, the stage where records wait most marked, and an honest empty
 * state. Rendered with react-dom/server.
 */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { EmbedWorkerEvent, IndexerEvent, SparkEvent } from "@/components/live/stream-types";
import { PipelineStagesView } from "@/components/overview/pipeline-stages-card";
import { pipelineStages, summarizeStage, type StageEvents } from "@/components/overview/pipeline-stages";
import type { StageFigures } from "@/lib/upstreams/stage";

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const FROM = NOW - 15 * 60_000;

const fig = (records_per_sec: number, p50_ms: number | null, p99_ms: number | null, records = Math.round(records_per_sec * 60)): StageFigures => ({ records_per_sec, records, p50_ms, p99_ms, window_sec: 60 });
const idle = fig(0, null, null, 0);

const spark = (parse_stage: StageFigures | null): SparkEvent => ({ status: "unreachable", application: null, jobs: null, executors: null, streaming: null, parse_worker: {}, parse_stage, timestamp: 0 });
const embed = (stage: StageFigures | null): EmbedWorkerEvent => ({ metrics: {} as never, rates: { records_in_per_sec: null, records_out_per_sec: null, batches_per_sec: null }, stage, timestamp: 0 });
const index = (stage: StageFigures | null): IndexerEvent => ({ metrics: {}, health: null, stage, timestamp: 0 });

/** One event per minute over the window, figures from `f(i)`. */
const series = <T>(make: (f: StageFigures | null) => T, f: (i: number) => StageFigures | null, n = 15) => Array.from({ length: n }, (_, i) => ({ t: FROM + (i + 1) * 60_000, data: make(f(i)) }));

function render(events: StageEvents) {
  const { stages, points } = pipelineStages(events);
  return renderToStaticMarkup(createElement(PipelineStagesView, { stages, points, from: FROM, to: NOW, windowLabel: "15 min" }));
}
const text = (html: string, testId: string) => new RegExp(`data-testid="${testId}"[^>]*>(.*?)</`, "s").exec(html)?.[1];

describe("summarizeStage", () => {
  it.each([
    { name: "no polls", figures: [], want: { polls: 0, active: false, ratePerSec: null, p50Ms: null, p99Ms: null } },
    { name: "worker unreachable / no figures", figures: [null, null], want: { polls: 0, active: false } },
    { name: "idle polls", figures: [idle, idle], want: { polls: 2, active: false, ratePerSec: 0, p50Ms: null, p99Ms: null } },
    // Rate: mean of the polls, idle minutes included; p50: median of busy polls; p99: worst poll.
    { name: "busy then idle", figures: [fig(10, 20, 90), fig(20, 40, 400), fig(30, 30, 100), idle], want: { polls: 4, active: true, ratePerSec: 15, p50Ms: 30, p99Ms: 400 } },
    { name: "Spark: rows/s without latency", figures: [{ records_per_sec: 12, records: null, p50_ms: null, p99_ms: null, window_sec: null }], want: { active: true, ratePerSec: 12, p99Ms: null } },
  ])("$name", ({ figures, want }) => {
    expect(summarizeStage("embed", figures)).toMatchObject(want);
  });
});

describe("pipeline view", () => {
  it("says when nothing went through a stage, and why there are no figures, without charts", () => {
    const html = render({ parse: [], embed: [], index: [] });
    for (const k of ["parse", "embed", "index"]) expect(text(html, `pipeline-stage-${k}-empty`)).toMatch(/no figures from this stage in the window/);
    expect(html).not.toContain("records wait here");
    expect(html).not.toContain("chart-stage-rate");
    expect(html).toContain("last 15 min");
  });

  it("an idle pipeline: no records through each stage, nothing marked slow", () => {
    const html = render({ parse: series(spark, () => idle), embed: series(embed, () => idle), index: series(index, () => idle) });
    for (const k of ["parse", "embed", "index"]) expect(text(html, `pipeline-stage-${k}-empty`)).toBe("no records through this stage in the window");
    expect(html).not.toContain('data-slowest="true"');
    expect(html).toContain('data-testid="chart-stage-rate"');
  });

  it("marks the stage where records wait most (highest p99), with formatted figures", () => {
    const html = render({
      parse: series(spark, () => fig(40, 12, 80)),
      // The embed stage stalls for one minute: its p99 that minute is 12.5 s.
      embed: series(embed, (i) => (i === 7 ? fig(4, 9_000, 12_500) : fig(40, 150, 900))),
      index: series(index, () => fig(40, 5, 30)),
    });
    expect(text(html, "pipeline-stage-parse-rate")).toBe("40/s");
    expect(text(html, "pipeline-stage-parse-p50")).toBe("12 ms");
    expect(text(html, "pipeline-stage-embed-p50")).toBe("150 ms");
    expect(text(html, "pipeline-stage-embed-p99")).toBe("12.50 s");
    expect(text(html, "pipeline-stage-index-p99")).toBe("30 ms");
    expect(html.match(/data-slowest="true"/g)).toHaveLength(1);
    expect(html).toMatch(/data-testid="pipeline-stage-embed"[^>]*data-slowest="true"/);
    expect(html).toMatch(/data-testid="pipeline-stage-embed".*records wait here.*data-testid="pipeline-stage-index"/s);
  });

  it("a backlog reads in minutes or hours, not in thousands of seconds", () => {
    const html = render({ parse: [], embed: series(embed, () => fig(1, 4 * 60_000, 2.5 * 3_600_000)), index: [] });
    expect(text(html, "pipeline-stage-embed-p50")).toBe("4 min");
    expect(text(html, "pipeline-stage-embed-p99")).toBe("2.5 h");
  });

  it("a stage whose worker is unreachable keeps its row; the others still compare", () => {
    const { stages, points } = pipelineStages({
      parse: series(spark, () => fig(5, 10, 20)),
      embed: [{ t: NOW - 1_000, data: { error: "unreachable", message: "connect ECONNREFUSED", timestamp: 0 } }],
      index: series(index, () => fig(5, 50, 70)),
    });
    expect(stages.map((s) => [s.key, s.polls, s.slowest])).toEqual([["parse", 15, false], ["embed", 0, false], ["index", 15, true]]);
    // Points carry each stage's own keys, time-ordered, for the two charts.
    expect(points).toHaveLength(30);
    expect(points.every((p, i) => i === 0 || p.t >= points[i - 1]!.t)).toBe(true);
    expect(points[0]).toMatchObject({ parse_rate: 5, parse_p99: 20 });
  });

  it("reads the parse worker's stage_window from spark events recorded before parse_stage existed", () => {
    const old = { ...spark(null), parse_worker: { stage_window: fig(3, 7, 9) } } as SparkEvent;
    delete (old as Partial<SparkEvent>).parse_stage;
    const { stages } = pipelineStages({ parse: [{ t: NOW, data: old }], embed: [], index: [] });
    expect(stages[0]).toMatchObject({ key: "parse", active: true, ratePerSec: 3, p99Ms: 9, slowest: true });
  });
});
