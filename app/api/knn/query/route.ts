import "server-only";
import { ApiError, parseJsonBody, withApiErrors } from "@/lib/http/api-error";
import { consoleLog } from "@/lib/upstreams/log";
import { proxied } from "@/lib/upstreams/errors";
import { indexerCall } from "@/lib/upstreams/indexer";
import { KNN_QUERY_MAX_BYTES, knnAnswerSchema, knnQuerySchema } from "./schema";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const ROUTE = "/api/knn/query";

/** POST /api/knn/query → the indexer's POST /knn/query, validated on both sides (body ≤ KNN_QUERY_MAX_BYTES). */
export const POST = withApiErrors(consoleLog(ROUTE), async (request: Request) => {
  const query = await parseJsonBody(request, knnQuerySchema, { maxBytes: KNN_QUERY_MAX_BYTES, route: ROUTE });
  const { body } = await proxied("indexer", () => indexerCall<unknown>("/knn/query", { method: "POST", body: query, signal: request.signal }));
  const answer = knnAnswerSchema.safeParse(body);
  if (!answer.success) throw new ApiError(502, "upstream_failed", "indexer answered in an unexpected shape");
  return Response.json(answer.data, { headers: { "cache-control": "no-store" } });
});
