import "server-only";
import { SESSION_COOKIE, SESSION_MAX_AGE_SEC, safeEqual, safeNext, sessionValue } from "@/lib/auth/token";
import { consoleConfig } from "@/lib/config/console";
import { withApiErrors } from "@/lib/http/api-error";
import { consoleLog } from "@/lib/upstreams/log";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const log = consoleLog("/api/auth/login");

/** POST /api/auth/login (form: token, next) → sets the httpOnly session cookie and returns to `next`; a wrong token back to the form. */
export const POST = withApiErrors(log, async (request: Request) => {
  const form = await request.formData().catch(() => new FormData());
  const given = String(form.get("token") ?? "");
  const next = safeNext(String(form.get("next") ?? "/"));
  const token = consoleConfig().consoleToken;
  const headers = new Headers({ "cache-control": "no-store" });
  if (!token) {
    headers.set("location", next);
    return new Response(null, { status: 303, headers });
  }
  if (!safeEqual(given, token)) {
    log().warn({ audit: "login_failed" }, "console login failed");
    headers.set("location", `/login?error=1&next=${encodeURIComponent(next)}`);
    return new Response(null, { status: 303, headers });
  }
  const secure = new URL(request.url).protocol === "https:" ? "; Secure" : "";
  headers.append("set-cookie", `${SESSION_COOKIE}=${sessionValue(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MAX_AGE_SEC}${secure}`);
  headers.set("location", next);
  log().info({ audit: "login" }, "console login");
  return new Response(null, { status: 303, headers });
});
