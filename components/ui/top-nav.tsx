"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

/** Pages that exist; add one line per new page. */
const links = [
  { href: "/", label: "Overview" },
  { href: "/monitoring", label: "Monitoring" },
  { href: "/search", label: "Search" },
  { href: "/shards", label: "Shards" },
  { href: "/dlq", label: "DLQ" },
  { href: "/lag", label: "Lag" },
  { href: "/ingest", label: "Ingest" },
  { href: "/health", label: "Health" },
] as const;

export function TopNav() {
  const pathname = usePathname();
  return (
    <header className="border-b border-line bg-surface">
      <nav aria-label="Main" className="mx-auto flex h-12 max-w-6xl items-center gap-6 px-4 sm:px-6">
        <Link href="/" className="flex items-center gap-2 text-sm font-semibold tracking-tight">
          <span aria-hidden className="grid size-6 place-items-center rounded bg-accent text-[11px] font-bold text-surface">
            E
          </span>
          Embedline
        </Link>
        <ul className="flex items-center gap-1 overflow-x-auto text-sm">
          {links.map(({ href, label }) => {
            const active = href === "/" ? pathname === "/" : pathname === href || pathname.startsWith(`${href}/`);
            return (
              <li key={href}>
                <Link
                  href={href}
                  aria-current={active ? "page" : undefined}
                  data-testid={`nav-${label.toLowerCase()}`}
                  className={`rounded-md px-2.5 py-1.5 transition-colors ${active ? "bg-surface-2 font-medium text-fg" : "text-muted hover:text-fg"}`}
                >
                  {label}
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
    </header>
  );
}
