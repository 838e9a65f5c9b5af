import type { ReactNode } from "react";

interface CardProps {
  title?: ReactNode;
  /** Right-aligned header content: a badge, a timestamp, an action. */
  aside?: ReactNode;
  children: ReactNode;
  className?: string;
  "data-testid"?: string;
}

export function Card({ title, aside, children, className = "", "data-testid": testId }: CardProps) {
  return (
    <section className={`rounded-lg border border-line bg-surface ${className}`} data-testid={testId}>
      {(title || aside) && (
        <header className="flex items-center justify-between gap-3 border-b border-line px-4 py-2.5">
          <h2 className="text-sm font-semibold">{title}</h2>
          {aside && <div className="flex items-center gap-2 text-xs text-muted">{aside}</div>}
        </header>
      )}
      {children}
    </section>
  );
}
