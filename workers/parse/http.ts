import { createServer, type Server } from "node:http";
import { ApiError } from "../../lib/http/api-error";
import { sendApiError, sendJson } from "../../lib/http/node-server";
import type { ParseHealth } from "./health";
import type { ParseMetrics } from "./metrics";

/** /health (200 while consuming, `degraded` included: it lists partitions that are not advancing) and /metrics (JSON counters). */
export function createParseServer(health: ParseHealth, metrics: ParseMetrics, topics: { input: string[]; output: string; dlq: string; group: string }): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" && req.method !== "HEAD") {
      return sendApiError(res, new ApiError(405, "method_not_allowed", "only GET is served here", { allow: "GET, HEAD" }));
    }
    if (url.pathname === "/health") {
      return sendJson(res, health.httpStatus(), { ...health.report(), ...topics });
    }
    if (url.pathname === "/metrics") return sendJson(res, 200, metrics.snapshot());
    sendApiError(res, new ApiError(404, "not_found", `no route ${url.pathname}; try /health or /metrics`));
  });
}
