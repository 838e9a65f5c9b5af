import { ApiError } from "../../lib/http/api-error";

/**
 * Exact (`exact: true`) kNN queries scan every vector in scope, reading the
 * f32 vectors from LMDB (memory holds none). Measured here (bench/knn-exact.ts
 * → bench/results/knn-exact.json, a real LMDB store, 2 cores at load ≈ 9-12)
 * at the default index size, 32 shards × EMB_SHARD_MAX_IDS 5000 = 160k 384-dim
 * vectors: without a filter every shard is read in bulk in key order — p50
 * ≈ 210 ms, p99 ≈ 290 ms for k 10 (≈ 220 / 245 ms for k 1000), the loop held
 * ≤ 30 ms at a time; with a filter or a shard subset, row by row — ≈ 400 /
 * 640 ms for every row read, ≈ 200 / 245 ms with a filter keeping half (only
 * passing rows are read). At 1M f16 an exact query took 5.7 s row by row
 * (bench/results/knn.json); with EMB_SHARD_MAX_IDS=0 the index, and the scan,
 * grow without bound. A client looping on them could keep the indexer's one
 * thread busy and starve ingestion, /health and HNSW queries.
 *
 * So one scan runs at a time (it hands the event loop back after each chunk
 * of 2,048 vectors or each shard, lib/index/search.ts searchIndexYielding), a few wait in line, and the next
 * is refused at once with 429 `rate_limited` and a Retry-After that estimates
 * when the line will have drained. The same holds for a query without `exact`
 * whose filter was too selective for the graph, so it fell back to a scan (a
 * filter that matches nothing would otherwise be an exact query by another
 * name). Queries the HNSW graph answers never wait here.
 */
export const EXACT_CONCURRENCY = 1;
/**
 * Queries allowed to wait behind the running one: an operator's console (a
 * few tabs) never has more in flight; at the default size the last in line
 * waits ≈ 1 s (k 10, bulk) to ≈ 2.5 s (row by row on a loaded machine).
 */
export const EXACT_QUEUE = 4;

/** Duration assumed before the first exact query has been timed. */
const INITIAL_ESTIMATE_MS = 100;

export interface ExactGateOptions {
  concurrency?: number;
  queue?: number;
}

export class ExactQueryGate {
  readonly concurrency: number;
  readonly queue: number;
  private running = 0;
  private readonly waiting: { start: () => void }[] = [];
  /** Moving average of an exact query's duration, for Retry-After. */
  private meanMs = INITIAL_ESTIMATE_MS;

  constructor(opts: ExactGateOptions = {}) {
    this.concurrency = opts.concurrency ?? EXACT_CONCURRENCY;
    this.queue = opts.queue ?? EXACT_QUEUE;
  }

  /** Exact queries running and waiting now (for /metrics). */
  get state(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /**
   * Wait for a slot; resolves to the function that frees it (call it exactly
   * once). Throws 429 `rate_limited` (with Retry-After) when the line is full;
   * a query whose client left while it waited (`signal`) leaves the line.
   */
  async enter(signal?: AbortSignal): Promise<() => void> {
    await this.acquire(signal);
    const started = performance.now();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.meanMs = 0.8 * this.meanMs + 0.2 * (performance.now() - started);
      this.release();
    };
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.queue) {
      const retryAfter = Math.max(1, Math.ceil(((this.waiting.length + 1) * this.meanMs) / this.concurrency / 1000));
      throw new ApiError("rate_limited",
        `too many exact kNN scans at once (${this.concurrency} running, ${this.waiting.length} waiting; exact: true, or a filter too selective for the HNSW graph): retry in ${retryAfter} s`,
        { "retry-after": String(retryAfter) },
      );
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        start: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i !== -1) this.waiting.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  /** The slot passes straight to the next in line, or is freed. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next.start();
    else this.running--;
  }
}
