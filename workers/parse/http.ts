import { createServer, type Server } from "node:http";
import { ApiError } from "../../lib/http/api-error";
import { sendApiError, sendJson } from "../../lib/http/node-server";
import type { ParseMetrics } from "./metrics";

export type WorkerStatus = "starting" | "ok" | "stopping" | "failed";

export interface WorkerState {
  status: WorkerStatus;
  /** Why the worker is not ok, one line. */
  detail?: string;
}

/** /health (200 only while consuming) and /metrics (JSON counters). */
export function createParseServer(state: WorkerState, metrics: ParseMetrics, topics: { input: string[]; output: string; dlq: string; group: string }): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" && req.method !== "HEAD") {
      return sendApiError(res, new ApiError(405, "method_not_allowed", "only GET is served here", { allow: "GET, HEAD" }));
    }
    if (url.pathname === "/health") {
      return sendJson(res, state.status === "ok" ? 200 : 503, { status: state.status, detail: state.detail, ...topics });
    }
    if (url.pathname === "/metrics") return sendJson(res, 200, metrics.snapshot());
    sendApiError(res, new ApiError(404, "not_found", `no route ${url.pathname}; try /health or /metrics`));
  });
}
