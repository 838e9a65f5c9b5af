import "server-only";
import { requireToken } from "@/lib/auth/guard";
import { ApiError, parseJsonBody, withApiErrors } from "@/lib/http/api-error";
import { controlEmbedWorker } from "@/lib/upstreams/embed-worker";
import { proxied } from "@/lib/upstreams/errors";
import { consoleLog } from "@/lib/upstreams/log";
import { CONTROL_MAX_BYTES, controlBodySchema } from "./schema";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const log = consoleLog("/api/embed-worker/[action]");

/** POST /api/embed-worker/pause | /resume with the JSON body `{}` → the embed-worker's own control endpoint (with its token, server side). */
export const POST = withApiErrors(log, async (request: Request, { params }: { params: Promise<{ action: string }> }) => {
  const auth = requireToken(request);
  const { action } = await params;
  if (action !== "pause" && action !== "resume") throw new ApiError("not_found", `no action ${action}; expected pause or resume`);
  await parseJsonBody(request, controlBodySchema, { maxBytes: CONTROL_MAX_BYTES, route: `/api/embed-worker/${action}` });
  const result = await proxied("embed-worker", () => controlEmbedWorker(action));
  log().info({ audit: `embed_worker_${action}`, by: auth }, "operator control");
  return Response.json(result, { headers: { "cache-control": "no-store" } });
});
