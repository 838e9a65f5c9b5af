import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { checkHealth } from "@/lib/health/check";
import { parseSearchParams, withApiErrors } from "@/lib/http/api-error";
import { createLogger, type Logger } from "@/lib/log";
import { healthQuerySchema } from "./schema";

// Probes run on every request against live components: never cached, never on the edge.
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

let log: Logger | undefined;
const routeLog = () => (log ??= createLogger("console", consoleConfig().logLevel).child({ route: "/api/health" }));

/**
 * GET /api/health[?degraded=503|200] → `{status: "ok"|"degraded", components: [...], timestamp}`.
 *
 * Status code: 200 when every component is ok, 503 when any is down. We chose
 * 503 so the launcher, a load balancer or `curl -f` can act on the status line
 * alone; the body has the same shape either way. `?degraded=200` answers a
 * degraded report with 200 (the console's page uses it: it reads the body).
 * A bad query is a 422.
 */
export const GET = withApiErrors(routeLog, async (request: Request) => {
  const query = parseSearchParams(request.url, healthQuerySchema);
  const health = await checkHealth();
  const degradedStatus = query.degraded === "200" ? 200 : 503;
  return Response.json(health, {
    status: health.status === "ok" ? 200 : degradedStatus,
    headers: { "cache-control": "no-store" },
  });
});
