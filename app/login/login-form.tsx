"use client";

import { useState, useSyncExternalStore, type FormEvent } from "react";
import { safeNext } from "@/lib/auth/safe-next";
import { apiErrorFromResponse } from "@/lib/http/api-error";

/** What the operator reads for each refusal of POST /api/auth/login. */
async function refusal(res: Response): Promise<string> {
  const error = await apiErrorFromResponse(res);
  if (error.code === "invalid_token") return "Wrong token.";
  if (error.code === "rate_limited") {
    const wait = Number(res.headers.get("retry-after"));
    return `Too many attempts, try again in ${Number.isFinite(wait) && wait > 0 ? wait : "a few"} s.`;
  }
  return error.message; // 413 (token too long), 421, 403…: the server's sentence says what is wrong
}

const noSubscription = () => () => {};

/**
 * Posts `{token, next}` as JSON and, once the session cookie is set, goes to
 * `next`. The submit button waits for hydration: before it, a native submit
 * would post a form body, which the console refuses (415) anyway.
 */
export function LoginForm({ next }: { next: string }) {
  // false in the server's HTML, true once React runs in the browser
  const hydrated = useSyncExternalStore(noSubscription, () => true, () => false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const token = String(new FormData(e.currentTarget).get("token") ?? "");
    setBusy(true);
    setError(null);
    try {
      const res = await fetch("/api/auth/login", {
        method: "POST",
        cache: "no-store",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ token, next }),
      });
      if (res.ok) {
        const body = (await res.json().catch(() => ({}))) as { next?: string };
        window.location.assign(safeNext(body.next ?? next));
        return; // stay busy while the browser navigates
      }
      setError(await refusal(res));
    } catch {
      setError("The console did not answer; try again.");
    }
    setBusy(false);
  }

  return (
    <form method="post" onSubmit={onSubmit} className="mx-auto mt-16 grid max-w-sm gap-3 rounded-lg border border-line bg-surface p-6" data-testid="login-form">
      <h1 className="text-lg font-semibold">Log in to the console</h1>
      <label className="grid gap-1 text-sm">
        Console token
        <input type="password" name="token" required autoComplete="current-password" autoFocus className="rounded-md border border-line bg-surface px-2 py-1.5" data-testid="login-token" />
      </label>
      {error && (
        <p role="alert" className="text-sm text-down" data-testid="login-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={!hydrated || busy} className="rounded-md bg-accent px-3 py-1.5 text-sm font-medium text-surface disabled:opacity-60" data-testid="login-submit">
        {busy ? "Logging in…" : "Log in"}
      </button>
    </form>
  );
}
