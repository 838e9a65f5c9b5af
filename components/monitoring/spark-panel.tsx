"use client";

import { TimeSeriesChart } from "@/components/charts/time-series-chart";
import type { SparkEvent } from "@/components/live/stream-types";
import { useChartWindow } from "@/components/live/chart-window";
import { useWindowStream } from "@/components/live/use-window-stream";
import { Card } from "@/components/ui/card";
import { formatCount, formatLatency, formatRate } from "@/components/ui/format";
import { Stat, StatGrid, Unavailable } from "@/components/ui/stat";
import { StatusBadge } from "@/components/ui/status-badge";
import { toPoints } from "./points";

/** Spark (real REST API and the job's progress events): health, input vs processed rate, batch duration. */
export function SparkPanel() {
  const [chartWindow] = useChartWindow();
  const feed = useWindowStream<SparkEvent>("spark", chartWindow);
  const d = feed.latest;
  const s = d?.streaming;
  // Grey "not in use" when the stack parses with the TypeScript worker; red only for a Spark that should run and does not.
  const tone = !d ? "unknown" : d.status === "running" ? "ok" : d.status === "not_in_use" ? "off" : "down";
  return (
    <Card title="Spark parse job" aside={<StatusBadge tone={tone} label={d ? d.status.replaceAll("_", " ") : "waiting"} title={d?.message} data-testid="spark-status" />} data-testid="panel-spark">
      {d?.status === "not_in_use" ? (
        <p className="px-4 py-3 text-sm text-muted" data-testid="spark-not-in-use">
          Not in use: {d.message}
        </p>
      ) : d && d.status !== "running" ? (
        <Unavailable what={d.status === "unreachable" ? "Spark unreachable" : "Spark job not running"} message={d.message} data-testid="spark-unavailable" />
      ) : (
        <StatGrid>
          <Stat label="input rows/s" value={formatRate(s?.input_rows_per_sec)} />
          <Stat label="processed rows/s" value={formatRate(s?.processed_rows_per_sec)} />
          <Stat label="batch duration" value={formatLatency(s?.batch_duration_ms)} />
          <Stat label="active jobs" value={formatCount(d?.jobs?.active)} />
        </StatGrid>
      )}
      {d?.parse_worker && (
        <p className="px-4 text-xs text-muted" data-testid="parse-worker-info">
          TypeScript parse worker: {formatCount(d.parse_worker.records_in as number)} in, {formatRate(d.parse_worker.rate as number)}
        </p>
      )}
      <TimeSeriesChart
        from={feed.from}
        to={feed.to}
        data-testid="chart-spark"
        points={toPoints(feed.events, (e) => ({ input: e.streaming?.input_rows_per_sec, processed: e.streaming?.processed_rows_per_sec, batch: e.streaming?.batch_duration_ms }))}
        series={[{ key: "input", label: "input rows/s", color: "var(--accent)" }, { key: "processed", label: "processed rows/s", color: "var(--ok)" }, { key: "batch", label: "batch ms", color: "var(--warn)", aggregate: "max" }]}
        format={(v) => String(Number(v.toPrecision(3)))}
      />
    </Card>
  );
}
