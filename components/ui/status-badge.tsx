/** `off`: not part of the running configuration (grey, like unknown, but a known state). */
export type StatusTone = "ok" | "down" | "warn" | "unknown" | "off";

const toneClasses: Record<StatusTone, string> = {
  ok: "bg-ok-soft text-ok",
  down: "bg-down-soft text-down",
  warn: "bg-warn-soft text-warn",
  unknown: "bg-surface-2 text-muted",
  off: "bg-surface-2 text-muted",
};

const dotClasses: Record<StatusTone, string> = {
  ok: "bg-ok",
  down: "bg-down",
  warn: "bg-warn",
  unknown: "bg-muted",
  off: "border border-muted",
};

interface StatusBadgeProps {
  tone: StatusTone;
  /** The visible text; tests read it, so keep it short and stable (`ok`, `down`). */
  label: string;
  /** A tooltip: the full value or the why behind the label. */
  title?: string;
  "data-testid"?: string;
}

/** A pill with a coloured dot; the colour is never the only signal, the label says it too. */
export function StatusBadge({ tone, label, title, "data-testid": testId }: StatusBadgeProps) {
  return (
    <span
      className={`inline-flex items-center gap-1.5 whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ${toneClasses[tone]}`}
      data-testid={testId}
      data-tone={tone}
      title={title}
    >
      <span aria-hidden className={`size-1.5 rounded-full ${dotClasses[tone]}`} />
      {label}
    </span>
  );
}
