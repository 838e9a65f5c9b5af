import type { Server } from "node:http";
import { createWorkerServer, json, route, text } from "../../lib/http/worker-server";
import type { Logger } from "../../lib/log";
import { PROMETHEUS_CONTENT_TYPE } from "../../lib/metrics/prometheus";
import { parsePrometheus } from "../../lib/metrics/prometheus-parse";
import type { ParseHealth } from "./health";
import type { ParseMetrics } from "./metrics";

/** /health (200 while consuming, `degraded` included: it lists partitions that are not advancing), /metrics (JSON counters) and /metrics/prometheus (the same as Prometheus text). */
export function createParseServer(health: ParseHealth, metrics: ParseMetrics, topics: { input: string[]; output: string; dlq: string; group: string }, log: Logger): Server {
  return createWorkerServer({
    log,
    routes: {
      "GET /health": route({ handle: () => json({ ...health.report(), ...topics }, health.httpStatus()) }),
      "GET /metrics": route({ handle: () => json(metrics.snapshot()) }),
      "GET /metrics/prometheus": route({ handle: () => text(parsePrometheus(metrics.snapshot()), PROMETHEUS_CONTENT_TYPE) }),
    },
  });
}
