import { Worker } from "node:worker_threads";
import type { LocalSpec } from "../../lib/embedding/registry";
import type { FromWorker, SessionThreadData, ToWorker } from "./protocol";

export interface ModelOutput {
  vectors: Float32Array[];
  dim: number;
  inferenceMs: number;
}

/**
 * One onnxruntime session of the bundled model, in its own worker thread. It
 * computes one call at a time; at most one more waits in the thread (the
 * batcher guarantees it). A crashed thread fails every pending call and
 * reports through `onFatal`, so the process can stop and be restarted.
 */
export class SessionThread {
  private worker?: Worker;
  private closing = false;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (o: ModelOutput) => void; reject: (e: Error) => void }>();
  dim = 0;

  constructor(
    private readonly data: SessionThreadData,
    private readonly onFatal: (err: Error) => void,
  ) {}

  /** Start the thread and wait until the session has loaded and warmed up. */
  load(): Promise<{ loadMs: number }> {
    const worker = new Worker(new URL("./model-thread.mjs", import.meta.url), { workerData: this.data });
    this.worker = worker;
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on("message", (m: FromWorker) => {
        if (m.type === "ready") {
          ready = true;
          this.dim = m.dim;
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
          p?.resolve({ vectors, dim: m.dim, inferenceMs: m.inferenceMs });
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

  /** Embed token id sequences (with [CLS]/[SEP], already cut at the model's limit) in one call. */
  embed(batch: ArrayLike<number>[]): Promise<ModelOutput> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error("model is not running"));
    const id = this.nextId++;
    const lengths = Int32Array.from(batch, (ids) => ids.length);
    const ids = new Int32Array(lengths.reduce((s, n) => s + n, 0));
    let at = 0;
    for (const row of batch) {
      ids.set(row, at);
      at += row.length;
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ type: "embed", id, ids, lengths } satisfies ToWorker, [ids.buffer, lengths.buffer]);
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
 * `sessions` onnxruntime sessions of the model, each in its own worker thread
 * with `intraOpThreads` threads of its own. The batcher runs at most
 * `sessions` calls at once plus one queued per session, so a call goes to
 * the session with the fewest calls.
 */
export class SessionPool {
  private readonly threads: SessionThread[];
  private readonly calls = new Map<SessionThread, number>();

  constructor(
    spec: LocalSpec,
    opts: Omit<SessionThreadData, "model"> & { sessions: number },
    onFatal: (err: Error) => void,
  ) {
    const { sessions, ...rest } = opts;
    const data: SessionThreadData = { model: spec.shortName, ...rest };
    this.threads = Array.from({ length: sessions }, () => new SessionThread(data, onFatal));
  }

  get dim(): number {
    return this.threads[0]?.dim ?? 0;
  }

  get sessions(): number {
    return this.threads.length;
  }

  /** Load every session; resolves with the slowest load time. */
  async load(): Promise<{ loadMs: number }> {
    const loads = await Promise.all(this.threads.map((t) => t.load()));
    return { loadMs: Math.max(...loads.map((l) => l.loadMs)) };
  }

  async embed(batch: ArrayLike<number>[]): Promise<ModelOutput> {
    const load = (t: SessionThread) => this.calls.get(t) ?? 0;
    const thread = this.threads.reduce((best, t) => (load(t) < load(best) ? t : best));
    if (load(thread) >= 2) throw new Error("every model session is busy");
    this.calls.set(thread, load(thread) + 1);
    try {
      return await thread.embed(batch);
    } finally {
      this.calls.set(thread, load(thread) - 1);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}
