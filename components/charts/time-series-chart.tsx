"use client";

import { useMemo } from "react";
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import { formatClock } from "@/components/ui/format";
import { downsample, MAX_CHART_POINTS, type Aggregate, type ChartPoint } from "./downsample";
import { timeTicks } from "./time-ticks";
import { useWidth } from "./use-width";

export interface Series {
  key: string;
  label: string;
  /** A CSS colour; theme variables (`var(--accent)`) follow light and dark. */
  color: string;
  /** How a time bucket is summarised when the window holds more than MAX_CHART_POINTS polls: `mean` (default) or `max` (latencies). */
  aggregate?: Aggregate;
}

export interface TimeSeriesChartProps {
  points: readonly ChartPoint[];
  series: readonly Series[];
  format: (v: number) => string;
  /** The visible window, epoch ms (browser clock): the x axis spans it whatever the data covers. */
  from: number;
  to: number;
  height?: number;
  "data-testid"?: string;
}

const tooltipStyle = { background: "var(--surface)", border: "1px solid var(--line)", borderRadius: 6, fontSize: 12, color: "var(--fg)" };
const Y_AXIS_PX = 56;
const MARGIN = { top: 4, right: 12, bottom: 0, left: 0 };

/**
 * A line chart over the chosen window: the one chart the live panels share.
 * The x axis is the window itself (an empty start stays empty), with ticks
 * from timeTicks so their labels fit the width; points beyond
 * MAX_CHART_POINTS are bucketed by time (downsample.ts).
 */
export function TimeSeriesChart({ points, series, format, from, to, height = 160, "data-testid": testId }: TimeSeriesChartProps) {
  const [ref, width] = useWidth();
  const aggregates = useMemo(() => Object.fromEntries(series.map((s) => [s.key, s.aggregate ?? "mean"])), [series]);
  const shown = useMemo(() => downsample(points, from, to, MAX_CHART_POINTS, aggregates), [points, from, to, aggregates]);
  const ticks = useMemo(() => timeTicks(from, to, width - Y_AXIS_PX - MARGIN.left - MARGIN.right), [from, to, width]);
  const labels = useMemo(() => new Map(ticks.map((t) => [t.t, t.label])), [ticks]);
  return (
    <div ref={ref} className="px-2 pt-3 pb-1 text-xs" data-testid={testId} data-points={shown.length} data-from={from} data-to={to} style={{ minHeight: height }}>
      {width > 0 && (
        <LineChart width={width} height={height} data={shown as object[]} margin={MARGIN}>
          <CartesianGrid vertical={false} strokeDasharray="3 3" stroke="var(--line)" />
          <XAxis dataKey="t" type="number" scale="time" domain={[from, to]} allowDataOverflow ticks={ticks.map((t) => t.t)} interval={0} tickFormatter={(t: number) => labels.get(t) ?? ""} stroke="var(--muted)" />
          <YAxis width={Y_AXIS_PX} tickFormatter={format} stroke="var(--muted)" />
          <Tooltip contentStyle={tooltipStyle} labelFormatter={(t) => formatClock(Number(t))} formatter={(v, name) => [typeof v === "number" ? format(v) : "—", name]} />
          {series.length > 1 && <Legend wrapperStyle={{ fontSize: 11 }} />}
          {series.map((s) => (
            <Line key={s.key} dataKey={s.key} name={s.label} stroke={s.color} strokeWidth={1.75} dot={false} isAnimationActive={false} connectNulls />
          ))}
        </LineChart>
      )}
    </div>
  );
}
