import type { IncomingMessage, ServerResponse } from "node:http";
import type { InfermeshConfig } from "../../lib/config/infermesh";
import { MODEL_REGISTRY, type ModelSpec } from "../../lib/embedding/registry";
import type { Logger } from "../../lib/log";
import { bearerAuth } from "./auth";
import { QueueFullError, type DynamicBatcher } from "./batcher";
import { ApiError } from "../../lib/http/api-error";
import { readJson, sendApiError, sendJson } from "../../lib/http/node-server";
import { checkInputs, resolveRequestModel, type CheckedInputs } from "./limits";
import type { Metrics } from "./metrics";

export interface Embedded {
  vector: Float32Array;
  tokens: number;
}

export interface ServiceState {
  status: "loading" | "ok" | "stopping" | "failed";
  startedAt: number;
}

export interface ServiceDeps {
  cfg: InfermeshConfig;
  spec: ModelSpec;
  dim: () => number;
  batcher: DynamicBatcher<Embedded>;
  metrics: Metrics;
  log: Logger;
  state: ServiceState;
}

type Handler = (req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => Promise<void>;

/** The HTTP request handler: routing, auth, metrics and error mapping around small route functions. */
export function createHandler(deps: ServiceDeps) {
  const { cfg, spec, batcher, metrics, log, state } = deps;
  const authorize = bearerAuth(cfg.apiKey);
  const limits = { maxInputs: cfg.maxInputs, model: spec };

  function ready() {
    if (state.status === "stopping") throw new ApiError(503, "shutting_down", "service is shutting down", { connection: "close", "retry-after": "1" });
    if (state.status !== "ok") throw new ApiError(503, "model_loading", "model is still loading", { "retry-after": "1" });
  }

  async function embedChecked(checked: CheckedInputs, signal: AbortSignal): Promise<Embedded[]> {
    if (checked.truncated.length > 0) metrics.truncated.inc(checked.truncated.length);
    try {
      return await batcher.submit(checked.texts, signal);
    } catch (err) {
      if (err instanceof QueueFullError) {
        throw new ApiError(429, "queue_full", `too many inputs waiting (INFERMESH_QUEUE_MAX=${cfg.queueMax}); retry after ${err.retryAfterSec} s`, { "retry-after": String(err.retryAfterSec) });
      }
      throw err;
    }
  }

  const routes: Record<string, Handler> = {
    "POST /embed": async (req, res, signal) => {
      authorize(req);
      ready();
      const body = (await readJson(req, cfg.maxBodyBytes)) as Record<string, unknown> | null;
      if (!body || typeof body !== "object" || Array.isArray(body)) throw new ApiError(422, "invalid_body", "body must be a JSON object {model?, inputs}");
      const model = resolveRequestModel(body.model, spec);
      const checked = checkInputs(body.inputs, "inputs", limits);
      const out = await embedChecked(checked, signal);
      sendJson(res, 200, {
        vectors: out.map((o) => Array.from(o.vector)),
        model: model.shortName,
        model_id: model.id,
        dim: deps.dim(),
        truncated: checked.truncated,
      });
    },

    "POST /v1/embeddings": async (req, res, signal) => {
      authorize(req);
      ready();
      const body = (await readJson(req, cfg.maxBodyBytes)) as Record<string, unknown> | null;
      if (!body || typeof body !== "object" || Array.isArray(body)) throw new ApiError(422, "invalid_body", "body must be a JSON object {model, input}");
      const model = resolveRequestModel(body.model, spec);
      const format = body.encoding_format ?? "float";
      if (format !== "float" && format !== "base64") throw new ApiError(422, "invalid_encoding_format", "encoding_format must be float or base64");
      if (body.dimensions !== undefined && body.dimensions !== deps.dim()) {
        throw new ApiError(422, "invalid_dimensions", `${model.shortName} makes ${deps.dim()}-dim vectors and cannot shorten them`);
      }
      const input = typeof body.input === "string" ? [body.input] : body.input;
      const checked = checkInputs(input, "input", limits);
      const out = await embedChecked(checked, signal);
      const tokens = out.reduce((s, o) => s + o.tokens, 0);
      sendJson(res, 200, {
        object: "list",
        data: out.map((o, index) => ({
          object: "embedding",
          index,
          embedding: format === "base64" ? Buffer.from(o.vector.buffer, o.vector.byteOffset, o.vector.byteLength).toString("base64") : Array.from(o.vector),
        })),
        model: model.shortName,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
        truncated: checked.truncated,
      });
    },

    "GET /health": async (_req, res) => {
      const body = {
        status: state.status,
        model: spec.shortName,
        model_id: spec.id,
        dim: deps.dim() || spec.dim,
        uptime_s: Math.round((Date.now() - state.startedAt) / 1000),
        threads: cfg.threads,
        queue_depth: batcher.depth,
      };
      sendJson(res, state.status === "ok" ? 200 : 503, body);
    },

    "GET /models": async (req, res) => {
      authorize(req);
      sendJson(res, 200, {
        models: MODEL_REGISTRY.map((m) => ({
          id: m.id,
          short_name: m.shortName,
          dim: m.dim,
          max_input_length: m.maxInputLength,
          length_unit: m.lengthUnit,
          provider: m.provider,
          licence: m.licence,
          loaded: m.id === spec.id && state.status === "ok",
        })),
      });
    },

    "GET /metrics": async (_req, res) => {
      const text = await metrics.registry.metrics();
      res.writeHead(200, { "content-type": metrics.registry.contentType });
      res.end(text);
    },
  };
  const paths = new Set(Object.keys(routes).map((k) => k.split(" ")[1]));

  return (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const key = `${req.method} ${path}`;
    const route = routes[key] ? path : "other";
    const aborter = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) aborter.abort(new Error("client closed the connection"));
    });
    if (state.status === "stopping") res.setHeader("connection", "close");

    const finish = (code: number, reason?: string) => {
      metrics.requests.inc({ route, code: String(code) });
      if (reason) metrics.failures.inc({ reason });
      metrics.requestDuration.observe({ route }, (performance.now() - started) / 1000);
    };

    const handler: Handler =
      routes[key] ??
      (async () => {
        if (paths.has(path)) throw new ApiError(405, "method_not_allowed", `${req.method} is not allowed on ${path}`);
        throw new ApiError(404, "not_found", `no route ${path}`);
      });

    handler(req, res, aborter.signal).then(
      () => finish(res.statusCode),
      (err: unknown) => {
        if (aborter.signal.aborted) return finish(499, "client_closed");
        if (err instanceof ApiError) {
          if (err.status === 401) log.warn({ route, status: 401 }, "unauthorized request");
          sendApiError(res, err);
          return finish(err.status, err.code);
        }
        log.error({ route, err: err instanceof Error ? { name: err.name, message: err.message } : String(err) }, "request failed");
        sendApiError(res, new ApiError(500, "internal_error", "internal error"));
        finish(500, "internal_error");
      },
    );
  };
}
