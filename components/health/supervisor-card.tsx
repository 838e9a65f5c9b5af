import { Card } from "@/components/ui/card";
import { formatClock } from "@/components/ui/format";
import { StatusBadge } from "@/components/ui/status-badge";
import type { SupervisionReport } from "@/lib/health/supervisor-state";
import { lastExitText, processTone } from "./supervision";

const th = "px-4 py-2 text-left text-xs font-medium uppercase tracking-wide text-muted";
const td = "px-4 py-2 align-top";

/**
 * The processes `npm start` supervises: state, restarts, last exit. Without the
 * launcher (docker-compose) it says so rather than show figures it does not have.
 */
export function SupervisorCard({ report }: { report: SupervisionReport | undefined }) {
  if (!report) return null;
  if (!report.supervised) {
    return (
      <Card title="Processes">
        <p className="px-4 py-3 text-sm text-muted" data-testid="supervisor-not-supervised">
          {report.reason}
        </p>
      </Card>
    );
  }
  const { processes, crash_loop } = report.state;
  const restarts = processes.reduce((n, p) => n + p.restarts, 0);
  return (
    <Card
      title="Processes"
      aside={<span data-testid="supervisor-restarts-total">{`${restarts} restart${restarts === 1 ? "" : "s"} · crash loop at >${crash_loop.restarts} in ${crash_loop.window_sec} s`}</span>}
      data-testid="supervisor-card"
    >
      <div className="overflow-x-auto">
        <table className="w-full min-w-[640px] text-sm" data-testid="supervisor-table">
          <thead>
            <tr>
              <th className={`${th} w-40`}>Process</th>
              <th className={`${th} w-28`}>State</th>
              <th className={`${th} w-20 text-right`}>Restarts</th>
              <th className={th}>Last exit</th>
            </tr>
          </thead>
          <tbody>
            {processes.map((p) => (
              <tr key={p.name} className="border-t border-line" data-testid={`supervisor-row-${p.name}`}>
                <td className={`${td} font-medium`}>
                  {p.name}
                  <div className="text-xs text-muted tabular-nums">{p.pid ? `pid ${p.pid}` : "not running"}</div>
                </td>
                <td className={td}>
                  <StatusBadge tone={processTone(p)} label={p.state} data-testid={`supervisor-state-${p.name}`} />
                </td>
                <td className={`${td} text-right tabular-nums`} data-testid={`supervisor-restarts-${p.name}`}>
                  {p.restarts}
                </td>
                <td className={`${td} text-xs break-words text-muted`} data-testid={`supervisor-last-exit-${p.name}`}>
                  {lastExitText(p, formatClock)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}
