import type { Metadata } from "next";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { safeNext } from "@/lib/auth/safe-next";
import { SESSION_COOKIE, verifySession } from "@/lib/auth/session";
import { consoleConfig } from "@/lib/config/console";
import { LoginForm } from "./login-form";

export const metadata: Metadata = { title: "Log in" };
export const dynamic = "force-dynamic";

/**
 * The login form (POST /api/auth/login as JSON, then on to `next`). Without
 * CONSOLE_TOKEN there is nothing to log in to; with a valid session already,
 * straight on to `next`.
 */
export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const cfg = consoleConfig();
  if (!cfg.consoleToken) redirect("/");
  const { next } = await searchParams;
  const target = safeNext(typeof next === "string" ? next : "/");
  const sessions = (await cookies()).getAll(SESSION_COOKIE).slice(0, 4);
  if (sessions.some((c) => verifySession(c.value, cfg))) redirect(target);
  return <LoginForm next={target} />;
}
