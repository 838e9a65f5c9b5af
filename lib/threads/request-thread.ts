import { Worker } from "node:worker_threads";

/** What a request thread answers (lib/threads/serve-requests.ts). */
export type ThreadReply<Res> = { id: number; result: Res } | { id: number; error: { name: string; message: string } };

/**
 * One worker thread that answers requests (serve-requests.ts on its side), for
 * CPU work taken off the caller's thread. It starts on first use and does not
 * keep the process alive; if it dies, pending requests fail and the next one
 * starts a new thread.
 */
export class RequestThread<Req, Res> {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: Res) => void; reject: (e: Error) => void }>();

  /** `entry`: a module URL; from the sources a plain-JS shim that registers tsx, in a built worker the thread's own bundle (scripts/launcher/worker-build.ts). */
  constructor(
    private readonly entry: URL,
    private readonly what: string,
  ) {}

  request(req: Req, transfer: ArrayBuffer[] = []): Promise<Res> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread().postMessage({ id, req }, transfer);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.entry);
    worker.unref();
    worker.on("message", (reply: ThreadReply<Res>) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ("result" in reply) p.resolve(reply.result);
      else p.reject(new Error(`${this.what}: ${reply.error.name}: ${reply.error.message}`));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on("error", (err) => fail(new Error(`${this.what} thread failed: ${err.message}`)));
    worker.on("exit", (code) => fail(new Error(`${this.what} thread exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}
