import { Card } from "@/components/ui/card";
import { formatLatency } from "@/components/ui/format";
import { StatusBadge } from "@/components/ui/status-badge";
import type { ComponentHealth } from "@/lib/health/schema";
import { componentStatus } from "./component-status";
import { componentLabel, kindLabel } from "./labels";

const th = "px-4 py-2 text-left text-xs font-medium uppercase tracking-wide text-muted";
const td = "px-4 py-3 align-top";

function HealthRow({ c }: { c: ComponentHealth }) {
  return (
    <tr className="border-t border-line" data-testid={`health-row-${c.name}`} data-state={c.state}>
      <td className={td}>
        <div className="font-medium">{componentLabel(c.name)}</div>
        <div className="text-xs text-muted">{kindLabel(c.kind)}</div>
      </td>
      <td className={td}>
        <StatusBadge {...componentStatus[c.state]} title={c.state === "not_in_use" ? (c.detail ?? undefined) : undefined} data-testid={`health-status-${c.name}`} />
      </td>
      <td className={`${td} text-right tabular-nums`} data-testid={`health-latency-${c.name}`}>
        {formatLatency(c.latencyMs)}
      </td>
      <td className={`${td} font-mono text-xs break-all text-muted`} data-testid={`health-target-${c.name}`}>
        {c.target}
      </td>
      <td className={`${td} text-xs`}>
        {c.error ? (
          <span className="text-down break-words" data-testid={`health-error-${c.name}`}>
            {c.error}
          </span>
        ) : (
          <span className="text-muted break-words" data-testid={c.state === "not_in_use" ? `health-why-${c.name}` : `health-detail-${c.name}`}>
            {c.detail ?? "—"}
          </span>
        )}
      </td>
    </tr>
  );
}

function SkeletonRows() {
  return Array.from({ length: 2 }, (_, i) => (
    <tr key={i} className="border-t border-line" aria-hidden>
      {Array.from({ length: 5 }, (_, j) => (
        <td key={j} className={td}>
          <div className="h-4 w-full max-w-32 animate-pulse rounded bg-surface-2" />
        </td>
      ))}
    </tr>
  ));
}

export function HealthTable({ components }: { components: ComponentHealth[] | undefined }) {
  return (
    <Card title="Components">
      <div className="overflow-x-auto">
        <table className="w-full min-w-[720px] text-sm" data-testid="health-table">
          <thead>
            <tr>
              <th className={`${th} w-48`}>Component</th>
              <th className={`${th} w-24`}>Status</th>
              <th className={`${th} w-28 text-right`}>Latency</th>
              <th className={`${th} w-56`}>Target</th>
              <th className={th}>Details</th>
            </tr>
          </thead>
          <tbody aria-busy={!components}>
            {components ? components.map((c) => <HealthRow key={c.name} c={c} />) : <SkeletonRows />}
          </tbody>
        </table>
      </div>
    </Card>
  );
}
