import type { Server } from "node:http";
import { z } from "zod";
import type { InfermeshConfig } from "../../lib/config/infermesh";
import { MODEL_REGISTRY, type ModelSpec } from "../../lib/embedding/registry";
import { ApiError } from "../../lib/http/api-error";
import { bearerCheck } from "../../lib/http/bearer";
import { createWorkerServer, json, route, text } from "../../lib/http/worker-server";
import type { Logger } from "../../lib/log";
import { QueueFullError, type DynamicBatcher } from "./batcher";
import { checkInputs, resolveRequestModel, type CheckedInputs, type Truncation } from "./limits";
import type { LocalSpec } from "../../lib/embedding/registry";
import { tokenReport, type Encoded } from "./local-embedder";
import type { Metrics } from "./metrics";

export interface Embedded {
  vectors: Float32Array[];
  /** Tokens embedded per input, with [CLS]/[SEP]. */
  tokens: number[];
  truncated: Truncation[];
}

export interface ServiceState {
  status: "loading" | "ok" | "stopping" | "failed";
  startedAt: number;
}

export interface ServiceDeps {
  cfg: InfermeshConfig;
  spec: LocalSpec;
  dim: () => number;
  /** The model's tokenizer (main thread): token ids per input, cut at the model's limit. */
  tokenize: (texts: string[]) => Promise<Encoded[]>;
  batcher: DynamicBatcher<Encoded, Float32Array>;
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
  const limits = { maxInputs: cfg.maxInputs };

  function ready() {
    if (state.status === "stopping") throw new ApiError("shutting_down", "service is shutting down", { connection: "close", "retry-after": "1" });
    if (state.status !== "ok") throw new ApiError("model_loading", "model is still loading", { "retry-after": "1" });
  }

  /** Refusals in the order a client would fix them: not ready, the model, the inputs. */
  function prepare(requestedModel: unknown, inputs: unknown, field: string): { model: ModelSpec; checked: CheckedInputs } {
    ready();
    return { model: resolveRequestModel(requestedModel, spec), checked: checkInputs(inputs, field, limits) };
  }

  /** Tokenize on arrival (so the batcher knows each input's length), then wait for the model. */
  async function embedChecked(checked: CheckedInputs, signal: AbortSignal): Promise<Embedded> {
    try {
      // Refused before the tokenizer spends time on inputs that would not fit in the queue.
      batcher.assertRoom(checked.texts.length);
      const encoded = await deps.tokenize(checked.texts);
      const report = tokenReport(encoded);
      if (report.truncated.length > 0) metrics.truncated.inc(report.truncated.length);
      return { vectors: await batcher.submit(encoded, signal), ...report };
    } catch (err) {
      if (err instanceof QueueFullError) {
        throw new ApiError("queue_full", `too many inputs waiting (INFERMESH_QUEUE_MAX=${cfg.queueMax}); retry after ${err.retryAfterSec} s`, { "retry-after": String(err.retryAfterSec) });
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
          return json({ vectors: out.vectors.map((v) => Array.from(v)), model: model.shortName, model_id: model.id, dim: deps.dim(), truncated: out.truncated });
        },
      }),

      "POST /v1/embeddings": route({
        auth: true,
        body: openAiBody,
        handle: async ({ body, signal }) => {
          const { model, checked } = prepare(body.model, typeof body.input === "string" ? [body.input] : body.input, "input");
          if (body.dimensions != null && body.dimensions !== deps.dim()) {
            throw new ApiError("invalid_dimensions", `${model.shortName} makes ${deps.dim()}-dim vectors and cannot shorten them`);
          }
          const format = body.encoding_format ?? "float";
          const out = await embedChecked(checked, signal);
          // Tokens embedded (after truncation), as OpenAI counts what it processed.
          const tokens = out.tokens.reduce((s, n) => s + n, 0);
          return json({
            object: "list",
            data: out.vectors.map((v, index) => ({
              object: "embedding",
              index,
              embedding: format === "base64" ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") : Array.from(v),
            })),
            model: model.shortName,
            usage: { prompt_tokens: tokens, total_tokens: tokens },
            truncated: out.truncated,
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
              max_tokens: spec.maxInputLength,
              sessions: cfg.sessions,
              intra_op_threads: cfg.intraOpThreads,
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
              ...(m.local ? { pooling: m.local.pooling, normalized: true } : {}),
              max_input_length: m.maxInputLength,
              length_unit: m.lengthUnit,
              provider: m.provider,
              licence: m.licence,
              description: m.description,
              loaded: m.id === spec.id && state.status === "ok",
            })),
          }),
      }),

      "GET /metrics": route({ handle: async () => text(await metrics.registry.metrics(), metrics.registry.contentType) }),
      // The path every Embedline process serves Prometheus text on (deploy/prometheus.yml scrapes it); /metrics stays, as InferMesh serves it.
      "GET /metrics/prometheus": route({ handle: async () => text(await metrics.registry.metrics(), metrics.registry.contentType) }),
    },
  });
}
