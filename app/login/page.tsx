import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { safeNext } from "@/lib/auth/safe-next";
import { consoleConfig } from "@/lib/config/console";
import { LoginForm } from "./login-form";

export const metadata: Metadata = { title: "Log in" };
export const dynamic = "force-dynamic";

/** The login form (POST /api/auth/login as JSON, then on to `next`). Without CONSOLE_TOKEN there is nothing to log in to. */
export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  if (!consoleConfig().consoleToken) redirect("/");
  const { next } = await searchParams;
  return <LoginForm next={safeNext(typeof next === "string" ? next : "/")} />;
}
