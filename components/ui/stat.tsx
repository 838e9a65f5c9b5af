import type { ReactNode } from "react";

/** One labelled figure in a panel. */
export function Stat({ label, value, "data-testid": testId }: { label: string; value: ReactNode; "data-testid"?: string }) {
  return (
    <div className="min-w-0">
      <dt className="truncate text-[11px] uppercase tracking-wide text-muted">{label}</dt>
      <dd className="mt-0.5 truncate text-base font-semibold tabular-nums" data-testid={testId}>
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
