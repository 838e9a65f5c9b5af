import { Worker } from "node:worker_threads";
import type { FromWorker, ToWorker } from "./protocol";

export interface ModelOutput {
  vectors: Float32Array[];
  dim: number;
  tokens: number[];
  inferenceMs: number;
}

/**
 * The bundled model, running in its own worker thread. It computes one call
 * at a time; at most one more waits in the thread (the batcher guarantees it).
 * A crashed thread fails every pending call and reports through `onFatal`, so
 * the process can stop and be restarted.
 */
export class LocalModel {
  private worker?: Worker;
  private closing = false;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (o: ModelOutput) => void; reject: (e: Error) => void }>();
  dim = 0;
  backend = "";

  constructor(
    readonly name: string,
    private readonly onFatal: (err: Error) => void,
  ) {}

  /** Start the thread and wait until the model has loaded and warmed up. */
  load(): Promise<{ loadMs: number }> {
    const worker = new Worker(new URL("./model-thread.mjs", import.meta.url), { workerData: { model: this.name } });
    this.worker = worker;
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on("message", (m: FromWorker) => {
        if (m.type === "ready") {
          ready = true;
          this.dim = m.dim;
          this.backend = m.backend;
          resolve({ loadMs: m.loadMs });
        } else if (m.type === "fatal") {
          const err = new Error(`model failed to load: ${m.message}`);
          if (ready) this.fail(err);
          else reject(err);
        } else if (m.type === "result") {
          const p = this.pending.get(m.id);
          this.pending.delete(m.id);
          const vectors = [];
          for (let i = 0; i < m.data.length / m.dim; i++) vectors.push(m.data.subarray(i * m.dim, (i + 1) * m.dim));
          p?.resolve({ vectors, dim: m.dim, tokens: m.tokens, inferenceMs: m.inferenceMs });
        } else if (m.type === "error") {
          const p = this.pending.get(m.id);
          this.pending.delete(m.id);
          p?.reject(new Error(m.message));
        }
      });
      worker.on("error", (err) => (ready ? this.fail(err) : reject(err)));
      worker.on("exit", (code) => {
        this.worker = undefined;
        if (this.closing) return;
        const err = new Error(`model thread exited with code ${code}`);
        if (!ready) reject(err);
        else if (code !== 0 || this.pending.size > 0) this.fail(err);
      });
    });
  }

  embed(texts: string[]): Promise<ModelOutput> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error("model is not running"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ type: "embed", id, texts } satisfies ToWorker);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.closing = true;
    if (w) await w.terminate();
  }

  private fail(err: Error) {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.onFatal(err);
  }
}

/**
 * `threads` copies of the model, each in its own worker thread. tfjs' wasm
 * backend runs one core per model in Node, so a second copy is the way to use
 * a second core. The batcher runs at most `threads` calls at once plus one
 * queued per thread, so a call goes to the copy with the fewest calls.
 */
export class ModelPool {
  private readonly models: LocalModel[];
  private readonly calls = new Map<LocalModel, number>();

  constructor(name: string, threads: number, onFatal: (err: Error) => void) {
    this.models = Array.from({ length: threads }, () => new LocalModel(name, onFatal));
  }

  get dim(): number {
    return this.models[0]?.dim ?? 0;
  }

  get backend(): string {
    return this.models[0]?.backend ?? "";
  }

  get threads(): number {
    return this.models.length;
  }

  /** Load every copy; resolves with the slowest load time. */
  async load(): Promise<{ loadMs: number }> {
    const loads = await Promise.all(this.models.map((m) => m.load()));
    return { loadMs: Math.max(...loads.map((l) => l.loadMs)) };
  }

  async embed(texts: string[]): Promise<ModelOutput> {
    const load = (m: LocalModel) => this.calls.get(m) ?? 0;
    const model = this.models.reduce((best, m) => (load(m) < load(best) ? m : best));
    if (load(model) >= 2) throw new Error("every model thread is busy");
    this.calls.set(model, load(model) + 1);
    try {
      return await model.embed(texts);
    } finally {
      this.calls.set(model, load(model) - 1);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.models.map((m) => m.close()));
  }
}
