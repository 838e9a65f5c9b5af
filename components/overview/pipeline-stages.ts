/**
 * Per-stage throughput and latency over the Overview's window, from the
 * events of the spark (parse), embed-worker and indexer streams. Pure: the
 * card (pipeline-stages-card.tsx) feeds it the window's events.
 *
 * Each event carries the stage's figures over the worker's last minute
 * (lib/upstreams/stage.ts). Over the window:
 * - records/s: the mean of the polls' per-minute rates (idle minutes count as 0);
 * - p50: the median of the polls' p50s, among polls with records;
 * - p99: the highest poll's p99 — the worst minute, so a stall is not averaged away.
 */
import type { ChartPoint } from "@/components/charts/downsample";
import type { EmbedWorkerEvent, IndexerEvent, SparkEvent } from "@/components/live/stream-types";
import { stageFigures, type StageFigures } from "@/lib/upstreams/stage";

export type StageKey = "parse" | "embed" | "index";

export const STAGE_LABELS: Readonly<Record<StageKey, string>> = { parse: "Parse", embed: "Embed", index: "Index" };
/** What a stage's latency measures, shown as the row's tooltip. */
export const STAGE_LATENCY: Readonly<Record<StageKey, string>> = {
  parse: "raw record's Kafka timestamp → its embedding_input record committed",
  embed: "embedding_input record's Kafka timestamp → its embedding committed",
  index: "embeddings record's Kafka timestamp → applied to the index",
};

export interface StageSummary {
  key: StageKey;
  /** Polls in the window that carried the stage's figures. */
  polls: number;
  /** Whether any record went through the stage in the window. */
  active: boolean;
  ratePerSec: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  /** The stage with the highest p99 in the window: where records wait most. */
  slowest: boolean;
}

interface Timed<T> {
  t: number;
  data: T;
}

export interface StageEvents {
  parse: readonly Timed<SparkEvent>[];
  embed: readonly Timed<EmbedWorkerEvent>[];
  index: readonly Timed<IndexerEvent>[];
}

/** The stage's figures in one event; null for an error event or a worker that publishes none. */
const figuresOf = {
  // Recorded before parse_stage existed: the parse worker's own stage_window.
  parse: (e: SparkEvent) => e.parse_stage ?? stageFigures(e.parse_worker),
  embed: (e: EmbedWorkerEvent) => ("stage" in e ? (e.stage ?? null) : null),
  index: (e: IndexerEvent) => ("stage" in e ? (e.stage ?? null) : null),
} satisfies Record<StageKey, (e: never) => StageFigures | null>;

const median = (values: number[]): number | null => {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export function summarizeStage(key: StageKey, figures: readonly (StageFigures | null)[]): StageSummary {
  const polls = figures.filter((f): f is StageFigures => f !== null);
  const busy = polls.filter((f) => (f.records ?? 0) > 0 || (f.records === null && (f.records_per_sec ?? 0) > 0));
  const rates = polls.map((f) => f.records_per_sec).filter((r): r is number => r !== null);
  const p50s = busy.map((f) => f.p50_ms).filter((v): v is number => v !== null);
  const p99s = busy.map((f) => f.p99_ms).filter((v): v is number => v !== null);
  return {
    key,
    polls: polls.length,
    active: busy.length > 0,
    ratePerSec: rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : null,
    p50Ms: median(p50s),
    p99Ms: p99s.length ? Math.max(...p99s) : null,
    slowest: false,
  };
}

/** The three stages' summaries (the highest p99 marked) and the chart points (`<stage>_rate`, `<stage>_p99`). */
export function pipelineStages(events: StageEvents): { stages: StageSummary[]; points: ChartPoint[] } {
  const keys: StageKey[] = ["parse", "embed", "index"];
  const points: ChartPoint[] = [];
  const stages = keys.map((key) => {
    const pick = figuresOf[key] as (e: unknown) => StageFigures | null;
    const figures = events[key].map((e) => {
      const f = pick(e.data);
      if (f) points.push({ t: e.t, [`${key}_rate`]: f.records_per_sec, [`${key}_p99`]: f.p99_ms });
      return f;
    });
    return summarizeStage(key, figures);
  });
  const slowest = stages.reduce<StageSummary | undefined>((worst, s) => (s.p99Ms !== null && (!worst || s.p99Ms > worst.p99Ms!) ? s : worst), undefined);
  if (slowest) slowest.slowest = true;
  points.sort((a, b) => a.t - b.t);
  return { stages, points };
}
