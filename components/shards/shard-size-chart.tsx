"use client";

import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";
import { formatCount } from "@/components/ui/format";

const tooltipStyle = { background: "var(--surface)", border: "1px solid var(--line)", borderRadius: 6, fontSize: 12, color: "var(--fg)" };

/** Vectors per shard as bars. */
export function ShardSizeChart({ shards }: { shards: readonly { id: number; count: number }[] }) {
  return (
    <div className="px-2 pt-3 pb-1 text-xs" data-testid="chart-shards">
      <BarChart responsive style={{ width: "100%", height: 220 }} data={shards as object[]} margin={{ top: 4, right: 12, bottom: 0, left: 0 }}>
        <CartesianGrid vertical={false} strokeDasharray="3 3" stroke="var(--line)" />
        <XAxis dataKey="id" stroke="var(--muted)" />
        <YAxis width={56} tickFormatter={(v: number) => formatCount(v)} stroke="var(--muted)" />
        <Tooltip contentStyle={tooltipStyle} formatter={(v) => [formatCount(Number(v)), "vectors"]} labelFormatter={(id) => `shard ${id}`} />
        <Bar dataKey="count" fill="var(--accent)" isAnimationActive={false} />
      </BarChart>
    </div>
  );
}
