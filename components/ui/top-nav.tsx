"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useState } from "react";
import { postJson } from "./fetch-json";

/** Pages that exist; add one line per new page. */
const links = [
  { href: "/", label: "Overview" },
  { href: "/monitoring", label: "Monitoring" },
  { href: "/search", label: "Search" },
  { href: "/shards", label: "Shards" },
  { href: "/dlq", label: "DLQ" },
  { href: "/topics", label: "Topics" },
  { href: "/lag", label: "Lag" },
  { href: "/ingest", label: "Ingest" },
  { href: "/health", label: "Health" },
] as const;

/** Ends the session on the server (POST /api/auth/logout) and goes to the login form. */
function LogoutButton() {
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState(false);
  async function logOut() {
    setBusy(true);
    setFailed(false);
    try {
      const { next } = await postJson<{ next: string }>("/api/auth/logout", {});
      window.location.assign(next.startsWith("/") ? next : "/login");
    } catch {
      setFailed(true);
      setBusy(false);
    }
  }
  return (
    <button
      type="button"
      onClick={logOut}
      disabled={busy}
      title={failed ? "Logging out failed; try again" : undefined}
      className={`ml-auto shrink-0 rounded-md px-2.5 py-1.5 text-sm transition-colors hover:text-fg disabled:opacity-60 ${failed ? "text-down" : "text-muted"}`}
      data-testid="logout"
    >
      {busy ? "Logging out…" : "Log out"}
    </button>
  );
}

/** `canLogOut`: a CONSOLE_TOKEN is configured (the layout reads it on the server; the token itself never reaches the browser). */
export function TopNav({ canLogOut = false }: { canLogOut?: boolean }) {
  const pathname = usePathname();
  // The login form alone: every link would only lead back to it.
  const onLogin = pathname === "/login";
  return (
    <header className="border-b border-line bg-surface">
      <nav aria-label="Main" className="mx-auto flex h-12 max-w-6xl items-center gap-6 px-4 sm:px-6">
        <Link href="/" className="flex items-center gap-2 text-sm font-semibold tracking-tight">
          <span aria-hidden className="grid size-6 place-items-center rounded bg-accent text-[11px] font-bold text-surface">
            E
          </span>
          Embedline
        </Link>
        {!onLogin && (
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
        )}
        {canLogOut && !onLogin && <LogoutButton />}
      </nav>
    </header>
  );
}
