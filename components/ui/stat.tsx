import type { ReactNode } from "react";

interface StatProps {
  label: string;
  value: ReactNode;
  /** The full value as a tooltip (an exact count behind `65.4k`); a text value is its own tooltip by default. */
  title?: string;
  "data-testid"?: string;
}

/**
 * One labelled figure in a panel. The figure is never cut: it wraps between
 * words ("206 rows ·" / "65.3 KB") rather than ending in an ellipsis, and a
 * word only breaks when it cannot fit a line on its own. Keep figures short
 * with `formatCompact` and give the exact one as `title`.
 */
export function Stat({ label, value, title, "data-testid": testId }: StatProps) {
  const tooltip = title ?? (typeof value === "string" || typeof value === "number" ? String(value) : undefined);
  return (
    <div className="min-w-0">
      <dt className="text-[11px] uppercase tracking-wide text-muted break-words">{label}</dt>
      <dd className="mt-0.5 text-base font-semibold tabular-nums break-words" data-testid={testId} title={tooltip}>
        {value}
      </dd>
    </div>
  );
}

/** What a panel shows when its upstream is absent: plainly, never made-up figures. */
export function Unavailable({ what, message, "data-testid": testId }: { what: string; message?: string; "data-testid"?: string }) {
  return (
    <p className="px-4 py-3 text-sm text-muted" data-testid={testId}>
      <span className="font-medium text-down">{what}</span>
      {message ? <span className="block truncate text-xs" title={message}>{message}</span> : null}
    </p>
  );
}

export function StatGrid({ children }: { children: ReactNode }) {
  return <dl className="grid grid-cols-2 gap-3 px-4 py-3 sm:grid-cols-4">{children}</dl>;
}
