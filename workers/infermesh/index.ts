/**
 * The bundled embedding service: an InferMesh-compatible HTTP server around
 * the seeds' models (all-MiniLM-L6-v2 or bge-small-en-v1.5) on onnxruntime,
 * their weights and tokenizers read from the model cache (no network at run time).
 *
 *   node --conditions=react-server --enable-source-maps .build/workers/infermesh.mjs   (built by `npm start`; scripts/build-workers.ts)
 */
import { parseInfermeshConfig } from "../../lib/config/infermesh";
import { modelCacheDir } from "../../lib/embedding/model-cache";
import { beginProcess } from "../../lib/process/lifecycle";
import { DynamicBatcher } from "./batcher";
import { modelFiles, ModelTokenizer, type Encoded } from "./local-embedder";
import { createMetrics } from "./metrics";
import { SessionPool } from "./model";
import { createInfermeshServer, type ServiceState } from "./service";

const proc = beginProcess("infermesh");
const cfg = proc.configure(parseInfermeshConfig);
const log = proc.log;
const spec = cfg.spec;
// A missing or short model file: one line naming it and the fix, before anything starts.
const files = (() => {
  try {
    return modelFiles(spec, modelCacheDir(cfg.modelCacheDir));
  } catch (err) {
    return proc.refuse((err as Error).message);
  }
})();
const tokenizer = new ModelTokenizer(files.tokenizer, spec.maxInputLength);
const warmup = (await tokenizer.encode(["warm up"]))[0]?.ids ?? [];

const state: ServiceState = { status: "loading", startedAt: Date.now() };
const model = new SessionPool(spec, { onnx: files.onnx, sessions: cfg.sessions, intraOpThreads: cfg.intraOpThreads, warmup }, (err) => {
  state.status = "failed";
  proc.fail(err, "model thread");
});
proc.onStop("model", () => model.close());

// Declared before the batcher: the metrics read its depth lazily.
// eslint-disable-next-line prefer-const
let batcher: DynamicBatcher<Encoded, Float32Array>;
const metrics = createMetrics(() => batcher.depth);
batcher = new DynamicBatcher<Encoded, Float32Array>(
  async (batch) => {
    const out = await model.embed(batch.map((e) => e.ids));
    metrics.inferenceDuration.observe(out.inferenceMs / 1000);
    metrics.addInputs(batch.length);
    return out.vectors;
  },
  {
    maxBatch: cfg.maxBatch,
    maxBatchTokens: cfg.maxBatchTokens,
    maxWaitMs: cfg.maxWaitMs,
    queueMax: cfg.queueMax,
    tokensOf: (e) => e.ids.length,
    concurrency: cfg.sessions,
    onBatch: (n, padded) => {
      metrics.batchSize.observe(n);
      metrics.batchTokens.observe(padded);
    },
  },
);

await proc.listen(
  createInfermeshServer({ cfg, spec, dim: () => model.dim, tokenize: (texts) => tokenizer.encode(texts), batcher, metrics, log, state }),
  cfg.port,
  cfg.host,
);
// Runs first at stop: new requests get 503 and connection: close; those accepted are answered.
proc.onStop("requests in flight", () => {
  const failed = state.status === "failed";
  state.status = "stopping";
  log.info({ queued: batcher.depth }, "answering the requests in flight");
  return failed ? undefined : batcher.idle();
});
log.info(
  { model: spec.shortName, auth: cfg.apiKey !== undefined, sessions: cfg.sessions, intraOpThreads: cfg.intraOpThreads, maxBatch: cfg.maxBatch, maxBatchTokens: cfg.maxBatchTokens, maxWaitMs: cfg.maxWaitMs },
  "infermesh listening; loading model",
);

void proc.start("model", async () => {
  const { loadMs } = await model.load();
  if (state.status !== "loading") return;
  state.status = "ok";
  metrics.modelLoaded.set({ model: spec.shortName }, 1);
  log.info({ model: spec.shortName, dim: model.dim, sessions: model.sessions, loadMs: Math.round(loadMs) }, "model ready");
}, { transient: () => false });
