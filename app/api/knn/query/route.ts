import "server-only";
import { parseJsonBody, withApiErrors } from "@/lib/http/api-error";
import { scatterKnnQuery } from "@/lib/upstreams/knn-scatter";
import { consoleLog } from "@/lib/upstreams/log";
import { knnQuerySchema } from "@/lib/knn/query";
import { KNN_QUERY_MAX_BYTES } from "./schema";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const ROUTE = "/api/knn/query";

/**
 * POST /api/knn/query → every emb-indexer of INDEXER_GROUP (lib/upstreams/knn-scatter.ts):
 * the merged top-k, `instances` (who answered) and `partial` (partitions not searched, and why).
 * Body ≤ KNN_QUERY_MAX_BYTES, validated with the indexers' own schema (lib/knn/query.ts).
 */
export const POST = withApiErrors(consoleLog(ROUTE), async (request: Request) => {
  const query = await parseJsonBody(request, knnQuerySchema, { maxBytes: KNN_QUERY_MAX_BYTES, route: ROUTE });
  const answer = await scatterKnnQuery(query, request.signal);
  return Response.json(answer, { headers: { "cache-control": "no-store" } });
});
