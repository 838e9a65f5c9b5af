"use client";

import { TimeSeriesChart } from "@/components/charts/time-series-chart";
import type { InfermeshEvent } from "@/components/live/stream-types";
import { useChartWindow } from "@/components/live/chart-window";
import { useWindowStream } from "@/components/live/use-window-stream";
import { Card } from "@/components/ui/card";
import { formatCount, formatLatency, formatLatencyTick, formatRate } from "@/components/ui/format";
import { Stat, StatGrid } from "@/components/ui/stat";
import { StatusBadge } from "@/components/ui/status-badge";
import { toPoints } from "./points";

const tone = { healthy: "ok", unhealthy: "warn", unreachable: "down" } as const;

/** Embedding service: status, health round trip over time, inputs embedded per second. */
export function InfermeshPanel() {
  const [chartWindow] = useChartWindow();
  const feed = useWindowStream<InfermeshEvent>("infermesh", chartWindow);
  const d = feed.latest;
  const status = d?.infermesh.status;
  return (
    <Card
      title="Embedding service"
      aside={<StatusBadge tone={status ? tone[status] : "unknown"} label={status ?? "waiting"} data-testid="infermesh-status" />}
      data-testid="panel-infermesh"
    >
      <StatGrid>
        <Stat label="RTT" value={formatLatency(d?.infermesh.rtt_ms)} />
        <Stat label="inputs/s" value={formatRate(d?.rows_per_sec)} />
        <Stat label="inputs total" value={formatCount(d?.rows_est)} />
        <Stat label="queue" value={formatCount(d?.queue_depth)} />
      </StatGrid>
      {status === "unreachable" && <p className="px-4 text-xs text-down">unreachable: {d?.infermesh.error}</p>}
      <TimeSeriesChart
        from={feed.from}
        to={feed.to}
        data-testid="chart-infermesh-rtt"
        points={toPoints(feed.events, (e) => ({ rtt: e.infermesh.rtt_ms, rate: e.rows_per_sec }))}
        series={[{ key: "rtt", label: "RTT (ms)", color: "var(--accent)", aggregate: "max" }, { key: "rate", label: "inputs/s", color: "var(--ok)" }]}
        format={formatLatencyTick}
      />
    </Card>
  );
}
