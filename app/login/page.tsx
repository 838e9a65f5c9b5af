import type { Metadata } from "next";
import { safeNext } from "@/lib/auth/token";

export const metadata: Metadata = { title: "Log in" };

/** The login form: posts the token to /api/auth/login, which sets an httpOnly cookie. */
export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { next, error } = await searchParams;
  return (
    <form method="post" action="/api/auth/login" className="mx-auto mt-16 grid max-w-sm gap-3 rounded-lg border border-line bg-surface p-6" data-testid="login-form">
      <h1 className="text-lg font-semibold">Log in to the console</h1>
      <input type="hidden" name="next" value={safeNext(typeof next === "string" ? next : "/")} />
      <label className="grid gap-1 text-sm">
        Console token
        <input type="password" name="token" required autoComplete="current-password" className="rounded-md border border-line bg-surface px-2 py-1.5" data-testid="login-token" />
      </label>
      {error && <p className="text-sm text-down" data-testid="login-error">Wrong token.</p>}
      <button type="submit" className="rounded-md bg-accent px-3 py-1.5 text-sm font-medium text-surface" data-testid="login-submit">Log in</button>
    </form>
  );
}
