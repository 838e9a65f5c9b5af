import { Worker } from "node:worker_threads";
import { flattenVectors, type EmbeddingRow, type EmbeddingRowMeta, type FlatVectors } from "./embedding-table";

export interface EncodeRequest {
  id: number;
  rows: EmbeddingRowMeta[];
  vectors: FlatVectors;
  storeText: boolean;
}

export type EncodeReply = { id: number; bytes: Uint8Array } | { id: number; error: string };

/**
 * Encodes rows as Parquet in one worker thread (encode-worker.ts), so the
 * caller's thread only flattens the vectors and copies the other fields. The
 * thread starts on first use; if it dies, pending encodes fail and the next one
 * starts a new thread.
 */
export class ParquetEncoder {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();

  encode(rows: readonly EmbeddingRow[], storeText: boolean): Promise<Uint8Array> {
    const vectors = flattenVectors(rows);
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const meta = rows.map(({ vector, ...rest }) => rest);
    const req: EncodeRequest = { id: this.nextId++, rows: meta, vectors, storeText };
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject });
      this.thread().postMessage(req, [vectors.offsets.buffer as ArrayBuffer, vectors.values.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL("./encode-thread.mjs", import.meta.url));
    // Idle, it must not keep the process alive.
    worker.unref();
    worker.on("message", (reply: EncodeReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ("bytes" in reply) p.resolve(reply.bytes);
      else p.reject(new Error(`Parquet encoding failed: ${reply.error}`));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on("error", (err) => fail(new Error(`Parquet encoder thread failed: ${err.message}`)));
    worker.on("exit", (code) => fail(new Error(`Parquet encoder thread exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}
