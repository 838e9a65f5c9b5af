/**
 * One onnxruntime session of the bundled model, in a worker thread: a model
 * call blocks the thread it runs in (onnxruntime-node runs it synchronously),
 * so the HTTP thread keeps answering /health and queueing requests meanwhile.
 * Tokens come from the main thread; pooling and normalisation happen here
 * (workers/infermesh/local-embedder.ts, the code the tests and bench run).
 */
import { parentPort, workerData } from "node:worker_threads";
import { ModelSession, resolveLocalModel } from "./local-embedder";
import type { FromWorker, SessionThreadData, ToWorker } from "./protocol";

const port = parentPort;
if (!port) throw new Error("model-worker must run in a worker thread");
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const data = workerData as SessionThreadData;

async function main() {
  const started = performance.now();
  const spec = resolveLocalModel(data.model);
  const session = await ModelSession.open(data.onnx, spec, { intraOpThreads: data.intraOpThreads });
  // One warm-up call lets onnxruntime plan the graph's memory before the first request.
  await session.run([data.warmup]);
  send({ type: "ready", model: spec.shortName, dim: session.dim, loadMs: performance.now() - started });

  // One call after the other: the batcher may hand a full batch over while one
  // runs, and it must wait its turn here rather than start at an await.
  let previous = Promise.resolve();
  port!.on("message", (msg: ToWorker) => {
    if (msg.type !== "embed") return;
    previous = previous.then(async () => {
      try {
        const t0 = performance.now();
        const batch: Int32Array[] = [];
        let at = 0;
        for (const n of msg.lengths) {
          batch.push(msg.ids.subarray(at, at + n));
          at += n;
        }
        const out = await session.run(batch);
        send({ type: "result", id: msg.id, data: out, dim: session.dim, inferenceMs: performance.now() - t0 }, [out.buffer as ArrayBuffer]);
      } catch (err) {
        send({ type: "error", id: msg.id, message: err instanceof Error ? err.message : String(err) });
      }
    });
  });
}

main().catch((err: unknown) => {
  send({ type: "fatal", message: err instanceof Error ? err.message : String(err) });
});
