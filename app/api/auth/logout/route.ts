import "server-only";
import { z } from "zod";
import { requestIsTls } from "@/lib/auth/request-gate";
import { SESSION_COOKIE, clearedSessionCookie, revocations, verifySession } from "@/lib/auth/session";
import { clientAddress } from "@/lib/auth/client-address";
import { cookieValues } from "@/lib/auth/token";
import { consoleConfig } from "@/lib/config/console";
import { parseJsonBody, withApiErrors } from "@/lib/http/api-error";
import { consoleLog } from "@/lib/upstreams/log";
import { LOGOUT_MAX_BYTES } from "../limits";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** The body cap, kept in app/api/auth/limits.ts where code that is not server-only can read it too. */
export { LOGOUT_MAX_BYTES };
const ROUTE = "/api/auth/logout";

const log = consoleLog(ROUTE);

/**
 * POST /api/auth/logout `{}` → 200 `{next: "/login"}`: the session is revoked
 * on the server (kept across restarts under DATA_DIR/console) and the cookie
 * cleared. Without a valid session it only clears the cookie.
 */
export const POST = withApiErrors(log, async (request: Request) => {
  await parseJsonBody(request, z.object({}).passthrough(), { maxBytes: LOGOUT_MAX_BYTES, route: ROUTE });
  const cfg = consoleConfig();
  for (const value of cookieValues(request.headers.get("cookie"), SESSION_COOKIE).slice(0, 4)) {
    const claims = verifySession(value, cfg);
    if (!claims) continue;
    try {
      revocations(cfg.access.stateDir).revoke(claims);
    } catch (err) {
      // Revoked in memory already; only a restart would bring it back.
      log().error({ err, session: claims.sid }, "could not persist the revoked session");
    }
    log().info({ audit: "logout", client: clientAddress(request.headers, cfg.access.trustProxy), session: claims.sid }, "console logout");
  }
  const headers = new Headers({ "cache-control": "no-store" });
  headers.append("set-cookie", clearedSessionCookie(requestIsTls(request, cfg.access.trustProxy)));
  return Response.json({ next: "/login" }, { headers });
});
