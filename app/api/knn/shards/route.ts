import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { ApiError, withApiErrors } from "@/lib/http/api-error";
import { indexerShardsSchema, mergeShards } from "@/lib/knn/shards";
import { softUnavailable } from "@/lib/upstreams/errors";
import { askEveryIndexer, indexerSet } from "@/lib/upstreams/indexers";
import { consoleLog } from "@/lib/upstreams/log";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export type { ShardsAnswer } from "@/lib/knn/shards";

/**
 * GET /api/knn/shards → GET /knn/shards of every indexer of the group, summed
 * per shard id (lib/knn/shards.ts), with `instances` and `partial` as a query
 * answers them (`?unavailable=200`: see softUnavailable).
 */
export const GET = withApiErrors(consoleLog("/api/knn/shards"), (request: Request) => softUnavailable(request, async () => {
  const set = await indexerSet();
  const timeoutMs = consoleConfig().knnScatterTimeoutMs;
  const outcomes = await askEveryIndexer(set, "/knn/shards", indexerShardsSchema, timeoutMs, request.signal);
  if (!outcomes.some((o) => o.result.ok)) {
    const only = outcomes.length === 1 ? outcomes[0]!.result : null;
    if (only && !only.ok && only.error === "unreachable") throw new ApiError("upstream_unreachable", "indexer is unreachable (not running?)");
    throw new ApiError("upstream_unreachable", `no indexer answered (${outcomes.map((o) => `${o.instance} ${o.result.ok ? "ok" : o.result.error}`).join("; ")})`);
  }
  return Response.json(mergeShards(outcomes, { topicPartitions: set.topicPartitions, timeoutMs }), { headers: { "cache-control": "no-store" } });
}));
