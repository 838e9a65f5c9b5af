import type { Server } from "node:http";
import { bearerCheck } from "../../lib/http/bearer";
import { createWorkerServer, json, route, text } from "../../lib/http/worker-server";
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
 * /metrics, /metrics/prometheus, /config; POST /pause and /resume (no body, or
 * `{}` as the console sends).
 *
 * With EMBED_CONTROL_TOKEN set, /pause, /resume and /config need
 * `Authorization: Bearer <token>` (401 otherwise): the first two change what the
 * pipeline does, and /config tells how it is wired (endpoints, topics, sinks),
 * which is reconnaissance even with its credentials redacted. /health,
 * /metrics and /metrics/prometheus stay open: the console, the launcher, a
 * Prometheus scraper and a load balancer poll them without credentials, and
 * they hold counters and states only — no URL, no text, no secret.
 */
export function createControlServer(api: ControlApi, controlToken: string | undefined, log: Logger): Server {
  const control = (action: "pause" | "resume") =>
    route({
      auth: true,
      handle: () => {
        if (action === "pause") api.pause();
        else api.resume();
        log.info({ action }, "operator control");
        return json({ ok: true, paused: api.paused() });
      },
    });
  return createWorkerServer({
    log,
    bearer: bearerCheck(controlToken, "embed-worker"),
    routes: {
      // 200 while degraded too: the process is alive and waiting the outage out.
      "GET /health": route({ handle: () => json(api.health()) }),
      "GET /metrics": route({ handle: () => json(api.metrics()) }),
      "GET /metrics/prometheus": route({ handle: () => text(api.prometheus(), "text/plain; version=0.0.4; charset=utf-8") }),
      "GET /config": route({ auth: true, handle: () => json(api.config()) }),
      "POST /pause": control("pause"),
      "POST /resume": control("resume"),
    },
  });
}
