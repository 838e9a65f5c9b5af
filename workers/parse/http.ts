import type { Server } from "node:http";
import { createWorkerServer, json, route } from "../../lib/http/worker-server";
import type { Logger } from "../../lib/log";
import type { ParseHealth } from "./health";
import type { ParseMetrics } from "./metrics";

/** /health (200 while consuming, `degraded` included: it lists partitions that are not advancing) and /metrics (JSON counters). */
export function createParseServer(health: ParseHealth, metrics: ParseMetrics, topics: { input: string[]; output: string; dlq: string; group: string }, log: Logger): Server {
  return createWorkerServer({
    log,
    routes: {
      "GET /health": route({ handle: () => json({ ...health.report(), ...topics }, health.httpStatus()) }),
      "GET /metrics": route({ handle: () => json(metrics.snapshot()) }),
    },
  });
}
