"use client";

import { useMemo } from "react";
import type { ChartPoint } from "@/components/charts/downsample";
import { TimeSeriesChart } from "@/components/charts/time-series-chart";
import { useChartWindow, WINDOW_LABELS } from "@/components/live/chart-window";
import type { EmbedWorkerEvent, IndexerEvent, SparkEvent } from "@/components/live/stream-types";
import { useWindowStream } from "@/components/live/use-window-stream";
import { Card } from "@/components/ui/card";
import { formatDuration, formatLatency, formatLatencyTick, formatRate } from "@/components/ui/format";
import { StatusBadge } from "@/components/ui/status-badge";
import { pipelineStages, STAGE_LABELS, STAGE_LATENCY, type StageKey, type StageSummary } from "./pipeline-stages";

const COLORS: Record<StageKey, string> = { parse: "var(--accent)", embed: "var(--ok)", index: "var(--warn)" };
const KEYS: StageKey[] = ["parse", "embed", "index"];

/** A wait: `12 ms`, `2.40 s`, then minutes and hours (a backlog, or records replayed with their old timestamps). */
const formatWait = (ms: number | null) => (ms !== null && ms >= 90_000 ? formatDuration(ms / 1000) : formatLatency(ms));

function Figure({ label, value, title, testId }: { label: string; value: string; title: string; testId: string }) {
  return (
    <div className="min-w-20" title={title}>
      <dt className="text-[11px] uppercase tracking-wide text-muted">{label}</dt>
      <dd className="font-semibold tabular-nums" data-testid={testId}>{value}</dd>
    </div>
  );
}

function StageRow({ s }: { s: StageSummary }) {
  const id = `pipeline-stage-${s.key}`;
  return (
    <li
      className={`flex flex-wrap items-center gap-x-6 gap-y-1 rounded-md border px-3 py-2 text-sm ${s.slowest ? "border-warn bg-warn-soft" : "border-line"}`}
      data-testid={id}
      data-slowest={s.slowest}
      title={`latency: ${STAGE_LATENCY[s.key]}`}
    >
      <span className="w-16 font-semibold">{STAGE_LABELS[s.key]}</span>
      {s.polls === 0 ? (
        <span className="text-muted" data-testid={`${id}-empty`}>no figures from this stage in the window (not running, or unreachable)</span>
      ) : !s.active ? (
        <span className="text-muted" data-testid={`${id}-empty`}>no records through this stage in the window</span>
      ) : (
        <dl className="flex flex-wrap gap-x-6">
          <Figure label="records/s" value={formatRate(s.ratePerSec)} title="mean rate over the window" testId={`${id}-rate`} />
          <Figure label="p50" value={formatWait(s.p50Ms)} title="median latency (median of the minutes)" testId={`${id}-p50`} />
          <Figure label="p99" value={formatWait(s.p99Ms)} title="p99 latency of the worst minute in the window" testId={`${id}-p99`} />
        </dl>
      )}
      {s.slowest && <StatusBadge tone="warn" label="records wait here" data-testid="pipeline-stage-slowest" />}
    </li>
  );
}

export interface PipelineStagesViewProps {
  stages: readonly StageSummary[];
  points: readonly ChartPoint[];
  from: number;
  to: number;
  windowLabel: string;
}

/** Per-stage records/s and p50/p99 over the window, the slowest stage marked, with the rate and p99 over time. */
export function PipelineStagesView({ stages, points, from, to, windowLabel }: PipelineStagesViewProps) {
  const any = stages.some((s) => s.polls > 0);
  return (
    <Card title="Where records wait" aside={`last ${windowLabel}`} data-testid="pipeline-stages">
      <ol className="grid gap-2 px-4 py-3">
        {stages.map((s) => <StageRow key={s.key} s={s} />)}
      </ol>
      {any && (
        <div className="grid gap-2 pb-2 md:grid-cols-2">
          <TimeSeriesChart
            data-testid="chart-stage-rate"
            from={from}
            to={to}
            height={140}
            points={points}
            series={KEYS.map((k) => ({ key: `${k}_rate`, label: `${STAGE_LABELS[k]} records/s`, color: COLORS[k] }))}
            format={(v) => formatRate(v)}
          />
          <TimeSeriesChart
            data-testid="chart-stage-p99"
            from={from}
            to={to}
            height={140}
            points={points}
            series={KEYS.map((k) => ({ key: `${k}_p99`, label: `${STAGE_LABELS[k]} p99`, color: COLORS[k], aggregate: "max" as const }))}
            format={formatLatencyTick}
          />
        </div>
      )}
    </Card>
  );
}

/** The Overview's pipeline view: the spark (parse), embed-worker and indexer streams over `?window=` (default 15 min), history then live. */
export function PipelineStages() {
  const [chartWindow] = useChartWindow();
  const parse = useWindowStream<SparkEvent>("spark", chartWindow);
  const embed = useWindowStream<EmbedWorkerEvent>("embed-worker", chartWindow);
  const index = useWindowStream<IndexerEvent>("indexer", chartWindow);
  const { stages, points } = useMemo(() => pipelineStages({ parse: parse.events, embed: embed.events, index: index.events }), [parse.events, embed.events, index.events]);
  return <PipelineStagesView stages={stages} points={points} from={Math.min(parse.from, embed.from, index.from)} to={Math.max(parse.to, embed.to, index.to)} windowLabel={WINDOW_LABELS[chartWindow]} />;
}
