import { combinedStreamRoute } from "@/lib/sse/combined-route";
import { streamPoller } from "@/lib/sse/streams";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** GET /api/streams?names=infermesh,lag — several SSE streams on one connection (what the pages use). */
export const GET = combinedStreamRoute(streamPoller);
