import "server-only";
import { z } from "zod";
import { clientAddress } from "@/lib/auth/client-address";
import { loginLimiter } from "@/lib/auth/login-limiter";
import { requestIsTls } from "@/lib/auth/request-gate";
import { issueSession, sessionCookie } from "@/lib/auth/session";
import { safeNext } from "@/lib/auth/token";
import { tokenMatches } from "@/lib/http/bearer";
import { consoleConfig } from "@/lib/config/console";
import { ApiError, parseJsonBody, withApiErrors } from "@/lib/http/api-error";
import { consoleLog } from "@/lib/upstreams/log";
import { LOGIN_MAX_BYTES } from "../limits";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** The body cap, kept in app/api/auth/limits.ts where code that is not server-only can read it too. */
export { LOGIN_MAX_BYTES };
const ROUTE = "/api/auth/login";

const loginSchema = z.object({ token: z.string(), next: z.string().optional() });

const log = consoleLog(ROUTE);

/**
 * POST /api/auth/login `{token, next?}` → 200 `{next}` with the session cookie;
 * a wrong token 401 `invalid_token`; too many failures 429 `rate_limited`
 * with Retry-After. No CONSOLE_TOKEN configured: 200 `{next}`, no cookie.
 * Audit lines name the client and the session id, never the token.
 */
export const POST = withApiErrors(log, async (request: Request) => {
  const cfg = consoleConfig();
  const token = cfg.consoleToken;
  const limit = { maxBytes: LOGIN_MAX_BYTES, route: ROUTE };
  if (!token) {
    const body = await parseJsonBody(request, loginSchema, limit);
    return Response.json({ next: safeNext(body.next) }, { headers: { "cache-control": "no-store" } });
  }
  const client = clientAddress(request.headers, cfg.access.trustProxy);
  const attempt = loginLimiter().begin(client);
  if (!attempt.ok) {
    log().warn({ audit: "login_rate_limited", client, scope: attempt.scope, retryAfterSec: attempt.retryAfterSec }, "console login refused: too many failures");
    throw new ApiError("rate_limited", `too many failed logins; try again in ${attempt.retryAfterSec} s`, { "retry-after": String(attempt.retryAfterSec) });
  }
  const body = await parseJsonBody(request, loginSchema, limit);
  if (!tokenMatches(body.token, token)) {
    log().warn({ audit: "login_failed", client }, "console login failed: wrong token");
    throw new ApiError("invalid_token", "wrong token", { "www-authenticate": "Bearer" });
  }
  attempt.succeeded();
  const ttl = cfg.access.sessionTtlSec;
  const { value, claims } = issueSession(token, ttl);
  log().info({ audit: "login", client, session: claims.sid, expiresAt: claims.expiresAt }, "console login");
  const headers = new Headers({ "cache-control": "no-store" });
  headers.append("set-cookie", sessionCookie(value, ttl, requestIsTls(request, cfg.access.trustProxy)));
  return Response.json({ next: safeNext(body.next) }, { headers });
});
