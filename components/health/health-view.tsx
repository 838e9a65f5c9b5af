"use client";

import { HealthSummary } from "./health-summary";
import { HealthTable } from "./health-table";
import { LatencyChart } from "./latency-chart";
import { SupervisorCard } from "./supervisor-card";
import { useHealthHistory, useHealthQuery } from "./use-health-query";

/** The Health page's live part: summary, component table, one latency chart per component. */
export function HealthView() {
  const { data: report, error } = useHealthQuery();
  const history = useHealthHistory(report);

  return (
    <div className="space-y-6">
      <HealthSummary report={report} fetchError={error} />
      <HealthTable components={report?.components} />
      <SupervisorCard report={report?.supervisor} />
      {report && (
        <section aria-label="Probe latency" className="space-y-3">
          <h2 className="text-sm font-semibold">Probe latency</h2>
          <div className="grid gap-4 md:grid-cols-2">
            {report.components.filter((c) => c.state !== "not_in_use").map((c) => (
              <LatencyChart key={c.name} name={c.name} samples={history[c.name] ?? []} />
            ))}
          </div>
        </section>
      )}
    </div>
  );
}
