import type { Server } from "node:http";
import { createWorkerServer, json, route, text } from "../../lib/http/worker-server";
import type { RecallMonitor } from "../../lib/index/recall-monitor";
import { shardStats } from "../../lib/index/stats";
import type { VectorIndex } from "../../lib/index/vector-index";
import type { Logger } from "../../lib/log";
import { PROMETHEUS_CONTENT_TYPE } from "../../lib/metrics/prometheus";
import { indexerPrometheus } from "../../lib/metrics/prometheus-indexer";
import { ExactQueryGate } from "./exact-gate";
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
  /** Bounds exact scans running at once; default: one running, EXACT_QUEUE waiting. */
  exactGate?: ExactQueryGate;
}

/** Routes of the emb-indexer: POST /knn/query, GET /knn/shards, /health, /metrics, /metrics/prometheus. */
export function createIndexerServer(deps: IndexerHttpDeps): Server {
  const { index, metrics, recall } = deps;
  const gate = deps.exactGate ?? new ExactQueryGate();
  /** GET /metrics; /metrics/prometheus renders the same object. */
  const metricsJson = () => metrics.toJSON({ total_ids: index.totalIds, dim: index.dim ?? null, model: index.model ?? null, recall: recall.report(), scans: gate.state });
  return createWorkerServer({
    log: deps.log,
    maxBodyBytes: MAX_BODY_BYTES,
    onResponse: ({ route: path, status, code }) => {
      if (path === "/knn/query" && status >= 400) metrics.queryErrors++;
      if (path === "/knn/query" && code === "rate_limited") metrics.scansRefused++;
    },
    routes: {
      "POST /knn/query": route({
        body: knnQuerySchema,
        handle: async ({ body, signal }) => {
          const started = performance.now();
          const answer = await runKnnQuery(index, body, deps.embedText, { ef: recall.ef, gate, signal });
          metrics.observeQuery(performance.now() - started);
          return json(answer);
        },
      }),
      "GET /knn/shards": route({ handle: () => json(shardStats(index)) }),
      "GET /metrics": route({ handle: () => json(metricsJson()) }),
      "GET /metrics/prometheus": route({ handle: () => text(indexerPrometheus(metricsJson()), PROMETHEUS_CONTENT_TYPE) }),
      "GET /health": route({
        handle: () => {
          const { httpStatus, body } = deps.health();
          return json(body, httpStatus);
        },
      }),
    },
  });
}
