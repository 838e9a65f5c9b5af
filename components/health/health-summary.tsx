import { formatClock } from "@/components/ui/format";
import { StatusBadge } from "@/components/ui/status-badge";
import type { HealthResponse } from "@/lib/health/schema";
import { HEALTH_REFETCH_MS } from "./use-health-query";

interface HealthSummaryProps {
  report: HealthResponse | undefined;
  /** Why the last poll failed (the console API itself unreachable), if it did. */
  fetchError: Error | null;
}

export function HealthSummary({ report, fetchError }: HealthSummaryProps) {
  const down = report?.components.filter((c) => c.state === "down").length ?? 0;
  const unused = report?.components.filter((c) => c.state === "not_in_use").length ?? 0;
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-xl font-semibold tracking-tight">Health</h1>
          <p className="text-sm text-muted">
            Each component probed from the console server every {HEALTH_REFETCH_MS / 1000} s.
          </p>
        </div>
        <div className="flex items-center gap-3 text-xs text-muted" data-testid="health-overall">
          {report ? (
            <>
              <span className="tabular-nums">Checked {formatClock(report.timestamp)}</span>
              <StatusBadge
                tone={report.status === "ok" ? "ok" : "down"}
                label={report.status === "ok" ? (unused ? "all components in use ok" : "all components ok") : `degraded · ${down} down`}
                data-testid="health-overall-status"
              />
            </>
          ) : (
            <StatusBadge tone="unknown" label={fetchError ? "unknown" : "checking…"} />
          )}
        </div>
      </div>
      {fetchError && (
        <div role="alert" className="rounded-md border border-down/40 bg-down-soft px-3 py-2 text-sm text-down" data-testid="health-fetch-error">
          Cannot reach the console API: {fetchError.message}.{report ? " Showing the last report." : ""}
        </div>
      )}
    </div>
  );
}
