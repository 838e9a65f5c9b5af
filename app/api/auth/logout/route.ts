import "server-only";
import { SESSION_COOKIE } from "@/lib/auth/token";
import { withApiErrors } from "@/lib/http/api-error";
import { consoleLog } from "@/lib/upstreams/log";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** POST /api/auth/logout → clears the session cookie and returns to the login form. */
export const POST = withApiErrors(consoleLog("/api/auth/logout"), async () => {
  const headers = new Headers({ location: "/login", "cache-control": "no-store" });
  headers.append("set-cookie", `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
  return new Response(null, { status: 303, headers });
});
