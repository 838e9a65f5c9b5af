"use client";

import { TimeSeriesChart } from "@/components/charts/time-series-chart";
import type { LagEvent } from "@/components/live/stream-types";
import { useChartWindow } from "@/components/live/chart-window";
import { useWindowStream } from "@/components/live/use-window-stream";
import { toPoints } from "@/components/monitoring/points";
import { Card } from "@/components/ui/card";
import { formatCount, formatDuration, formatRate } from "@/components/ui/format";
import { Unavailable } from "@/components/ui/stat";
import { WindowSelect } from "@/components/ui/window-select";

const colors = ["var(--accent)", "var(--ok)", "var(--warn)", "var(--down)", "var(--muted)"];

/** Consumer lag per group over time, per partition now, with an estimate of time to drain. */
export function LagView() {
  const [chartWindow] = useChartWindow();
  const feed = useWindowStream<LagEvent>("lag", chartWindow);
  const d = feed.latest;
  const groups = d && "groups" in d ? d.groups : [];
  const points = toPoints(feed.events, (e) => Object.fromEntries("groups" in e ? e.groups.map((g) => [g.group, g.lag]) : []));
  // Every group seen in the window gets a line, also one that has since gone.
  const names = [...new Set(points.flatMap((p) => Object.keys(p)).filter((k) => k !== "t"))].sort();
  return (
    <div className="grid gap-4" data-testid="lag-page">
      <div className="flex items-center justify-between gap-4">
        <h1 className="text-lg font-semibold">Consumer lag</h1>
        <WindowSelect />
      </div>
      {d && "error" in d && <Unavailable what="Kafka unreachable" message={d.message} data-testid="lag-error" />}
      <Card title="Lag by consumer group" aside={<span data-testid="lag-total">total {formatCount(d && "total_lag" in d ? d.total_lag : null)}</span>}>
        <TimeSeriesChart data-testid="chart-lag" from={feed.from} to={feed.to} points={points} series={names.map((g, i) => ({ key: g, label: g, color: colors[i % colors.length]! }))} format={(v) => formatCount(v)} />
      </Card>
      {groups.map((g) => (
        <Card key={g.group} title={g.group} aside={<span data-testid={`lag-status-${g.group}`}>{g.caught_up ? "caught up" : <>lag {formatCount(g.lag)} records · {formatRate(g.consume_rate)} · drain {g.drain_sec === null ? "— (not consuming)" : formatDuration(g.drain_sec)}</>}</span>} data-testid={`lag-group-${g.group}`}>
          <table className="w-full text-left text-xs">
            <thead className="text-muted"><tr><th className="px-4 py-1.5">topic</th><th>partition</th><th>committed</th><th>end</th><th title="records still to consume; transaction markers and aborted records count 0">lag</th></tr></thead>
            <tbody>
              {g.topics.flatMap((t) => t.partitions.map((p) => (
                <tr key={`${t.topic}-${p.partition}`} className="border-t border-line tabular-nums">
                  <td className="px-4 py-1.5">{t.topic}</td><td>{p.partition}</td><td>{formatCount(p.committed)}</td><td>{formatCount(p.end)}</td><td title={p.exact ? "records still to consume" : "offsets still to consume (too many to count records one by one)"}>{p.exact ? formatCount(p.lag) : `~${formatCount(p.lag)}`}</td>
                </tr>
              )))}
            </tbody>
          </table>
        </Card>
      ))}
      {d && "groups" in d && groups.length === 0 && <p className="text-sm text-muted">No consumer groups have committed offsets yet.</p>}
    </div>
  );
}
