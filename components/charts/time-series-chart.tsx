"use client";

import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import { formatClock } from "@/components/ui/format";

export interface Series {
  key: string;
  label: string;
  /** A CSS colour; theme variables (`var(--accent)`) follow light and dark. */
  color: string;
}

export interface TimeSeriesChartProps {
  points: readonly ({ t: number } & Record<string, number | null>)[];
  series: readonly Series[];
  format: (v: number) => string;
  height?: number;
  "data-testid"?: string;
}

const tooltipStyle = { background: "var(--surface)", border: "1px solid var(--line)", borderRadius: 6, fontSize: 12, color: "var(--fg)" };

/** A rolling line chart over time: the one chart the live panels share. */
export function TimeSeriesChart({ points, series, format, height = 160, "data-testid": testId }: TimeSeriesChartProps) {
  return (
    <div className="px-2 pt-3 pb-1 text-xs" data-testid={testId} data-points={points.length}>
      <LineChart responsive style={{ width: "100%", height }} data={points as object[]} margin={{ top: 4, right: 12, bottom: 0, left: 0 }}>
        <CartesianGrid vertical={false} strokeDasharray="3 3" stroke="var(--line)" />
        <XAxis dataKey="t" type="number" scale="time" domain={["dataMin", "dataMax"]} tickFormatter={formatClock} minTickGap={48} stroke="var(--muted)" />
        <YAxis width={56} tickFormatter={format} stroke="var(--muted)" />
        <Tooltip contentStyle={tooltipStyle} labelFormatter={(t) => formatClock(Number(t))} formatter={(v, name) => [typeof v === "number" ? format(v) : "—", name]} />
        {series.length > 1 && <Legend wrapperStyle={{ fontSize: 11 }} />}
        {series.map((s) => (
          <Line key={s.key} dataKey={s.key} name={s.label} stroke={s.color} strokeWidth={1.75} dot={false} isAnimationActive={false} connectNulls />
        ))}
      </LineChart>
    </div>
  );
}
