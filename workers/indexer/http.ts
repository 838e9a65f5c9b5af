import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, describeZodError } from "../../lib/http/api-error";
import { readJson, sendApiError, sendJson } from "../../lib/http/node-server";
import type { RecallMonitor } from "../../lib/index/recall-monitor";
import { shardStats } from "../../lib/index/stats";
import type { VectorIndex } from "../../lib/index/vector-index";
import type { Logger } from "../../lib/log";
import type { IndexerMetrics } from "./metrics";
import { knnQuerySchema, runKnnQuery, type EmbedText } from "./query";

/** Largest query body: a 4096-dim vector as JSON text is well under 100 KB. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface IndexerHttpDeps {
  index: VectorIndex;
  metrics: IndexerMetrics;
  recall: RecallMonitor;
  embedText: EmbedText;
  log: Logger;
  /** The /health answer as data (workers/indexer/health.ts): ok or degraded is 200, starting or stopping 503. */
  health: () => { httpStatus: number; body: unknown };
}

/** Routes of the emb-indexer: /knn/query, /knn/shards, /health, /metrics. */
export function createIndexerHandler(deps: IndexerHttpDeps) {
  const { index, metrics, recall, log } = deps;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://indexer").pathname;
    try {
      if (path === "/knn/query") {
        if (req.method !== "POST") throw methodNotAllowed("POST");
        const started = performance.now();
        const parsed = knnQuerySchema.safeParse(await readJson(req, MAX_BODY_BYTES));
        if (!parsed.success) throw new ApiError(422, "invalid_request", describeZodError(parsed.error));
        const answer = await runKnnQuery(index, parsed.data, deps.embedText, recall.ef);
        metrics.observeQuery(performance.now() - started);
        return sendJson(res, 200, answer);
      }
      if (req.method !== "GET") throw methodNotAllowed("GET");
      if (path === "/knn/shards") return sendJson(res, 200, shardStats(index));
      if (path === "/metrics") return sendJson(res, 200, metrics.toJSON({ total_ids: index.totalIds, dim: index.dim ?? null, recall: recall.report() }));
      if (path === "/health") {
        const { httpStatus, body } = deps.health();
        return sendJson(res, httpStatus, body);
      }
      throw new ApiError(404, "not_found", `no route ${path}`);
    } catch (err) {
      if (path === "/knn/query") metrics.queryErrors++;
      if (err instanceof ApiError) return sendApiError(res, err);
      log.error({ err, method: req.method, path }, "request failed");
      return sendApiError(res, new ApiError(500, "internal", "internal error"));
    }
  };
}

function methodNotAllowed(allowed: string): ApiError {
  return new ApiError(405, "method_not_allowed", `use ${allowed}`, { allow: allowed });
}
