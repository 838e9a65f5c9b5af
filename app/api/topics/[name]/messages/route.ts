import "server-only";
import { requireToken } from "@/lib/auth/guard";
import { parseSearchParams, withApiErrors } from "@/lib/http/api-error";
import { readMessages } from "@/lib/topics/messages";
import { messagesQuerySchema } from "@/lib/topics/query";
import { proxied, softUnavailable } from "@/lib/upstreams/errors";
import { consoleLog } from "@/lib/upstreams/log";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * GET /api/topics/{name}/messages?partition=&offset=|timestamp=|cursor=&key=&limit=&vectors=&full=
 * → MessagesAnswer (lib/topics/types.ts): read_committed records of one of
 * the pipeline's topics, read with plain fetches (no consumer group, nothing
 * committed) within a 10 s deadline and a scan budget; the answer says when
 * it is partial and why. Parameters: lib/topics/query.ts. 404 `unknown_topic`
 * (listing the topics there are), 422 `out_of_range` (with the valid range)
 * or `invalid_request` for a bad parameter.
 */
export const GET = withApiErrors(consoleLog("/api/topics/[name]/messages"), (request: Request, { params }: { params: Promise<{ name: string }> }) =>
  softUnavailable(request, async () => {
    requireToken(request);
    const { name } = await params;
    const q = parseSearchParams(request.url, messagesQuerySchema);
    const answer = await proxied("Kafka", () => readMessages(name, q, request.signal));
    return Response.json(answer, { headers: { "cache-control": "no-store" } });
  }),
);
