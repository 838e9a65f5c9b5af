"use client";

import { TimeSeriesChart } from "@/components/charts/time-series-chart";
import type { EmbedWorkerEvent } from "@/components/live/stream-types";
import { useChartWindow } from "@/components/live/chart-window";
import { useWindowStream } from "@/components/live/use-window-stream";
import { DlqCountStat } from "@/components/dlq/dlq-count-stat";
import { Card } from "@/components/ui/card";
import { formatClock, formatCount, formatLatency, formatRate } from "@/components/ui/format";
import { Stat, StatGrid, Unavailable } from "@/components/ui/stat";
import { StatusBadge } from "@/components/ui/status-badge";
import { useControlEmbedWorkerMutation } from "./use-embed-worker-mutation";
import { toPoints } from "./points";
import { UpstreamsTable } from "./upstreams-table";

/** Embed-worker: counters, batches/s, failures, last flush, pause/resume. */
export function EmbedWorkerPanel() {
  const [chartWindow] = useChartWindow();
  const feed = useWindowStream<EmbedWorkerEvent>("embed-worker", chartWindow);
  const d = feed.latest;
  const control = useControlEmbedWorkerMutation();
  const m = d && "metrics" in d ? d.metrics : undefined;
  const rates = d && "rates" in d ? d.rates : undefined;
  const badge = !d ? <StatusBadge tone="unknown" label="waiting" /> : !m ? <StatusBadge tone="down" label="unreachable" data-testid="embed-worker-status" /> : <StatusBadge tone={m.paused ? "warn" : m.status === "degraded" ? "warn" : "ok"} label={m.paused ? "paused" : (m.status ?? "ok")} data-testid="embed-worker-status" />;
  return (
    <Card title="Embed worker" aside={badge} data-testid="panel-embed-worker">
      {d && !m ? (
        <Unavailable what="embed-worker not running or unreachable" message={"message" in d ? d.message : undefined} data-testid="embed-worker-unreachable" />
      ) : (
        <StatGrid>
          <Stat label="records in" value={formatCount(m?.records_in)} />
          <Stat label="records out" value={formatCount(m?.records_out)} />
          <Stat label="dead-lettered here" value={formatCount(m?.dlq_records)} data-testid="embed-worker-dlq" />
          <DlqCountStat label="in DLQs (all stages)" data-testid="embed-worker-dlq-all" />
          <Stat label="batches/s" value={formatRate(rates?.batches_per_sec)} />
          <Stat label="failures" value={formatCount(m?.infermesh_failures)} />
          <Stat label="last RTT" value={formatLatency(m?.last_infermesh_rtt_ms)} />
          <Stat label="last flush" value={m?.last_flush_ts ? formatClock(m.last_flush_ts * 1000) : "—"} />
          <Stat label="lag" value={formatCount(typeof m?.lag === "number" ? m.lag : null)} />
        </StatGrid>
      )}
      {m && Array.isArray(m.upstreams) && m.upstreams.length > 0 && <UpstreamsTable upstreams={m.upstreams} />}
      <div className="flex items-center gap-2 px-4 pb-2">
        {(["pause", "resume"] as const).map((action) => (
          <button key={action} type="button" disabled={!m || control.isPending} onClick={() => control.mutate(action)} data-testid={`embed-worker-${action}`} className="rounded-md border border-line px-2.5 py-1 text-xs hover:bg-surface-2 disabled:opacity-50">
            {action}
          </button>
        ))}
        {control.error && <span className="text-xs text-down">{control.error.message}</span>}
      </div>
      <TimeSeriesChart
        from={feed.from}
        to={feed.to}
        data-testid="chart-embed-worker"
        points={toPoints(feed.events, (e) => ("rates" in e ? { in: e.rates.records_in_per_sec, out: e.rates.records_out_per_sec } : { in: null, out: null }))}
        series={[{ key: "in", label: "records in/s", color: "var(--accent)" }, { key: "out", label: "records out/s", color: "var(--ok)" }]}
        format={(v) => String(Number(v.toPrecision(3)))}
      />
    </Card>
  );
}
