export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * GET /api/live → 200 `{"status":"ok"}`: the console's server answers. No token
 * needed and nothing revealed (no components, no version), so the launcher's
 * readiness probe and Docker's HEALTHCHECK can use it with CONSOLE_TOKEN set.
 * /api/health is the full report, behind the token.
 */
export function GET(): Response {
  return Response.json({ status: "ok" }, { headers: { "cache-control": "no-store" } });
}
