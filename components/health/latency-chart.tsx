"use client";

import { useMemo } from "react";
import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import { timeTicks } from "@/components/charts/time-ticks";
import { useWidth } from "@/components/charts/use-width";
import { Card } from "@/components/ui/card";
import { formatClock, formatLatency, formatLatencyTick } from "@/components/ui/format";
import { StatusBadge } from "@/components/ui/status-badge";
import type { LatencySample } from "@/lib/health/history";
import { componentLabel } from "./labels";

interface LatencyChartProps {
  name: string;
  samples: readonly LatencySample[];
}

interface Point {
  t: number;
  latency: number | null;
  /** Latency of a failed probe, drawn as a red dot on its own series. */
  failed: number | null;
}

const Y_AXIS_PX = 56;
const MARGIN = { top: 4, right: 12, bottom: 0, left: 0 };

const tooltipStyle = {
  background: "var(--surface)",
  border: "1px solid var(--line)",
  borderRadius: 6,
  fontSize: 12,
  color: "var(--fg)",
};

/** Probe latency of one component over the retained samples; failed probes in red. */
export function LatencyChart({ name, samples }: LatencyChartProps) {
  const points: Point[] = samples.map((s) => ({ t: s.t, latency: s.latencyMs, failed: s.ok ? null : s.latencyMs }));
  const last = samples[samples.length - 1];
  const failures = samples.filter((s) => !s.ok).length;
  // Ticks that fit the width, as on every other chart (timeTicks): recharts' own overlap.
  const [ref, width] = useWidth();
  const from = samples[0]?.t ?? 0;
  const to = last?.t ?? 0;
  const ticks = useMemo(() => timeTicks(from, to, width - Y_AXIS_PX - MARGIN.left - MARGIN.right), [from, to, width]);
  const labels = useMemo(() => new Map(ticks.map((t) => [t.t, t.label])), [ticks]);

  return (
    <Card
      title={componentLabel(name)}
      aside={
        <>
          <span className="tabular-nums">{formatLatency(last?.latencyMs)}</span>
          {failures > 0 && <StatusBadge tone="down" label={`${failures} failed`} />}
        </>
      }
      data-testid={`health-chart-${name}`}
    >
      <div ref={ref} className="px-2 pt-3 pb-1 text-accent" style={{ minHeight: 160 }}>
        {width > 0 && (
          <LineChart width={width} height={160} data={points} margin={MARGIN}>
            <CartesianGrid vertical={false} strokeDasharray="3 3" />
            <XAxis dataKey="t" type="number" scale="time" domain={[from, to]} ticks={ticks.map((t) => t.t)} interval={0} tickFormatter={(t: number) => labels.get(t) ?? ""} />
            <YAxis width={Y_AXIS_PX} tickFormatter={formatLatencyTick} />
            <Tooltip
              contentStyle={tooltipStyle}
              labelFormatter={(t) => formatClock(Number(t))}
              formatter={(v, key) => [formatLatency(typeof v === "number" ? v : null), key === "failed" ? "failed probe" : "latency"]}
            />
            <Line dataKey="latency" stroke="currentColor" strokeWidth={1.75} dot={false} isAnimationActive={false} connectNulls />
            <Line dataKey="failed" stroke="none" dot={{ r: 3, fill: "var(--down)", stroke: "none" }} isAnimationActive={false} legendType="none" />
          </LineChart>
        )}
      </div>
      <p className="px-4 pb-2.5 text-[11px] text-muted" data-testid={`health-samples-${name}`}>
        {samples.length} {samples.length === 1 ? "sample" : "samples"} since this page opened
      </p>
    </Card>
  );
}
