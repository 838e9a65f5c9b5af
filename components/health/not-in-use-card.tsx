import { Card } from "@/components/ui/card";
import { StatusBadge } from "@/components/ui/status-badge";
import type { ComponentHealth } from "@/lib/health/schema";
import { componentLabel } from "./labels";

/**
 * The components this stack does not run (Spark beside the parse worker, RedDB
 * when none is configured), grey with a one-line why: a calm answer to "where is
 * Spark?" on the Overview, rather than a red badge. Nothing when all are in use.
 */
export function NotInUseCard({ components }: { components: ComponentHealth[] | undefined }) {
  const unused = components?.filter((c) => c.state === "not_in_use") ?? [];
  if (unused.length === 0) return null;
  return (
    <Card title="Not in use" data-testid="not-in-use-card">
      <ul className="divide-y divide-line text-sm">
        {unused.map((c) => (
          <li key={c.name} className="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-2" data-testid={`not-in-use-${c.name}`}>
            <span className="font-medium">{componentLabel(c.name)}</span>
            <StatusBadge tone="off" label="not in use" />
            <span className="text-xs text-muted break-words">{c.detail}</span>
          </li>
        ))}
      </ul>
    </Card>
  );
}
