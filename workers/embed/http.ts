import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { ApiError } from "../../lib/http/api-error";
import { sendApiError, sendJson, sendText } from "../../lib/http/node-server";
import type { Logger } from "../../lib/log";

export interface ControlApi {
  health(): { status: "ok" | "degraded"; reasons: unknown[] } & Record<string, unknown>;
  metrics(): unknown;
  prometheus(): string;
  config(): unknown;
  pause(): void;
  resume(): void;
  paused(): boolean;
}

/**
 * The embed-worker's operator endpoints (EMBED_METRICS_PORT): GET /health,
 * /metrics, /metrics/prometheus, /config; POST /pause and /resume, which need
 * `Authorization: Bearer <EMBED_CONTROL_TOKEN>` when a token is configured.
 */
export function createControlServer(api: ControlApi, controlToken: string | undefined, log: Logger): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    try {
      const route = `${req.method} ${path}`;
      switch (route) {
        case "GET /health": {
          const h = api.health();
          // 200 while degraded too: the process is alive and waiting the outage out.
          return sendJson(res, 200, h);
        }
        case "GET /metrics":
          return sendJson(res, 200, api.metrics());
        case "GET /metrics/prometheus":
          return sendText(res, 200, api.prometheus(), "text/plain; version=0.0.4; charset=utf-8");
        case "GET /config":
          return sendJson(res, 200, api.config());
        case "POST /pause":
        case "POST /resume":
          authorize(req, controlToken);
          if (path === "/pause") api.pause();
          else api.resume();
          log.info({ action: path.slice(1) }, "operator control");
          return sendJson(res, 200, { ok: true, paused: api.paused() });
        default:
          throw new ApiError(404, "not_found", `no route ${route}`);
      }
    } catch (err) {
      if (err instanceof ApiError) return sendApiError(res, err);
      log.error({ err, path }, "control endpoint failed");
      return sendApiError(res, new ApiError(500, "internal", "internal error"));
    }
  });
}

function authorize(req: IncomingMessage, token: string | undefined): void {
  if (token === undefined) return;
  const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "");
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ApiError(401, "unauthorized", "a valid bearer token is required", { "www-authenticate": "Bearer" });
  }
}
