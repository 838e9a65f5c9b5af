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
import type { PartitionOwnership } from "./ownership";
import { knnQuerySchema } from "../../lib/knn/query";
import { runKnnQuery, type EmbedText } from "./query";
import { knnResolveSchema, resolveQuery } from "./resolve";

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
  /** EMBED_MODEL: what /knn/resolve says a text was embedded with while the index is empty. */
  model?: string;
  /** This instance in the indexers' group: its id and the partitions it owns (answers, shard stats and metrics name them). */
  group?: { instance: string; ownership: PartitionOwnership };
}

/** Routes of the emb-indexer: POST /knn/query, POST /knn/resolve, GET /knn/shards, /health, /metrics, /metrics/prometheus. */
export function createIndexerServer(deps: IndexerHttpDeps): Server {
  const { index, metrics, recall } = deps;
  const gate = deps.exactGate ?? new ExactQueryGate();
  /** Who answers, and from which partitions (loading or live): the console merges answers and flags what is missing. */
  const who = () => (deps.group ? { instance: deps.group.instance, partitions: deps.group.ownership.list() } : {});
  /** GET /metrics; /metrics/prometheus renders the same object. */
  const metricsJson = () => metrics.toJSON({ total_ids: index.totalIds, dim: index.dim ?? null, model: index.model ?? null, recall: recall.report(), scans: gate.state, ...who() });
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
          return json({ ...answer, ...who() });
        },
      }),
      "POST /knn/resolve": route({
        body: knnResolveSchema,
        handle: async ({ body }) => json(await resolveQuery(index, body, deps.embedText, deps.model ?? null)),
      }),
      "GET /knn/shards": route({ handle: () => json({ ...shardStats(index), ...who() }) }),
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
