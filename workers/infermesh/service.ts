import type { Server } from "node:http";
import { z } from "zod";
import type { InfermeshConfig } from "../../lib/config/infermesh";
import { MODEL_REGISTRY, type ModelSpec } from "../../lib/embedding/registry";
import { ApiError } from "../../lib/http/api-error";
import { bearerCheck } from "../../lib/http/bearer";
import { createWorkerServer, json, route, text } from "../../lib/http/worker-server";
import type { Logger } from "../../lib/log";
import { QueueFullError, type DynamicBatcher } from "./batcher";
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

// Inputs are checked by checkInputs (its codes say which element is wrong); the schemas take the rest.
const embedBody = z.object({ model: z.unknown().optional(), inputs: z.unknown().optional() });
const openAiBody = z.object({
  model: z.unknown().optional(),
  input: z.unknown().optional(),
  encoding_format: z.enum(["float", "base64"]).nullish(),
  dimensions: z.number().int().positive().nullish(),
});

/** The embedding service's HTTP server: InferMesh's /embed, OpenAI's /v1/embeddings, /health, /models, /metrics. */
export function createInfermeshServer(deps: ServiceDeps): Server {
  const { cfg, spec, batcher, metrics, log, state } = deps;
  const limits = { maxInputs: cfg.maxInputs, model: spec };

  function ready() {
    if (state.status === "stopping") throw new ApiError(503, "shutting_down", "service is shutting down", { connection: "close", "retry-after": "1" });
    if (state.status !== "ok") throw new ApiError(503, "model_loading", "model is still loading", { "retry-after": "1" });
  }

  /** Refusals in the order a client would fix them: not ready, the model, the inputs. */
  function prepare(requestedModel: unknown, inputs: unknown, field: string): { model: ModelSpec; checked: CheckedInputs } {
    ready();
    return { model: resolveRequestModel(requestedModel, spec), checked: checkInputs(inputs, field, limits) };
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

  return createWorkerServer({
    log,
    bearer: bearerCheck(cfg.apiKey, "infermesh"),
    maxBodyBytes: cfg.maxBodyBytes,
    onRequest: (_req, res) => {
      if (state.status === "stopping") res.setHeader("connection", "close");
    },
    onResponse: ({ route: path, status, code, durationMs }) => {
      const label = path ?? "other";
      metrics.requests.inc({ route: label, code: String(status) });
      if (code) metrics.failures.inc({ reason: code });
      metrics.requestDuration.observe({ route: label }, durationMs / 1000);
      if (status === 401) log.warn({ route: label, status }, "unauthorized request");
    },
    routes: {
      "POST /embed": route({
        auth: true,
        body: embedBody,
        handle: async ({ body, signal }) => {
          const { model, checked } = prepare(body.model, body.inputs, "inputs");
          const out = await embedChecked(checked, signal);
          return json({ vectors: out.map((o) => Array.from(o.vector)), model: model.shortName, model_id: model.id, dim: deps.dim(), truncated: checked.truncated });
        },
      }),

      "POST /v1/embeddings": route({
        auth: true,
        body: openAiBody,
        handle: async ({ body, signal }) => {
          const { model, checked } = prepare(body.model, typeof body.input === "string" ? [body.input] : body.input, "input");
          if (body.dimensions != null && body.dimensions !== deps.dim()) {
            throw new ApiError(422, "invalid_dimensions", `${model.shortName} makes ${deps.dim()}-dim vectors and cannot shorten them`);
          }
          const format = body.encoding_format ?? "float";
          const out = await embedChecked(checked, signal);
          const tokens = out.reduce((s, o) => s + o.tokens, 0);
          return json({
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
      }),

      "GET /health": route({
        handle: () =>
          json(
            {
              status: state.status,
              model: spec.shortName,
              model_id: spec.id,
              dim: deps.dim() || spec.dim,
              uptime_s: Math.round((Date.now() - state.startedAt) / 1000),
              threads: cfg.threads,
              queue_depth: batcher.depth,
            },
            state.status === "ok" ? 200 : 503,
          ),
      }),

      "GET /models": route({
        auth: true,
        handle: () =>
          json({
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
          }),
      }),

      "GET /metrics": route({ handle: async () => text(await metrics.registry.metrics(), metrics.registry.contentType) }),
    },
  });
}
