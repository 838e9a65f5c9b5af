/**
 * The bundled embedding service: an InferMesh-compatible HTTP server around a
 * real sentence encoder (weights installed with the repo, no download at run time).
 *
 *   node --conditions=react-server --import tsx workers/infermesh/index.ts
 */
import { parseInfermeshConfig } from "../../lib/config/infermesh";
import { findModel } from "../../lib/embedding/registry";
import { beginProcess } from "../../lib/process/lifecycle";
import { DynamicBatcher } from "./batcher";
import { createMetrics } from "./metrics";
import { ModelPool } from "./model";
import { createInfermeshServer, type Embedded, type ServiceState } from "./service";

const proc = beginProcess("infermesh");
const cfg = proc.configure(parseInfermeshConfig);
const log = proc.log;
const found = findModel(cfg.model);
const spec = found?.provider === "local" ? found : proc.refuse(`invalid configuration: INFERMESH_MODEL=${JSON.stringify(cfg.model)}: expected a bundled model (use-lite)`);

const state: ServiceState = { status: "loading", startedAt: Date.now() };
const model = new ModelPool(spec.shortName, cfg.threads, (err) => {
  state.status = "failed";
  proc.fail(err, "model thread");
});
proc.onStop("model", () => model.close());

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

await proc.listen(createInfermeshServer({ cfg, spec, dim: () => model.dim, batcher, metrics, log, state }), cfg.port, cfg.host);
// Runs first at stop: new requests get 503 and connection: close; those accepted are answered.
proc.onStop("requests in flight", () => {
  const failed = state.status === "failed";
  state.status = "stopping";
  log.info({ queued: batcher.depth }, "answering the requests in flight");
  return failed ? undefined : batcher.idle();
});
log.info({ model: spec.shortName, auth: cfg.apiKey !== undefined, threads: cfg.threads, maxBatch: cfg.maxBatch, maxWaitMs: cfg.maxWaitMs }, "infermesh listening; loading model");

void proc.start("model", async () => {
  const { loadMs } = await model.load();
  if (state.status !== "loading") return;
  state.status = "ok";
  metrics.modelLoaded.set({ model: spec.shortName }, 1);
  log.info({ model: spec.shortName, dim: model.dim, backend: model.backend, loadMs: Math.round(loadMs) }, "model ready");
}, { transient: () => false });
