/**
 * Dynamic batching across concurrent requests: inputs from every request wait
 * in one bounded FIFO queue and go to the model together, at most `maxBatch`
 * per call and `concurrency` calls computing at a time (one per model thread).
 * A batch closes when it is full, or `maxWaitMs` after the first input arrived
 * while a model thread was idle; inputs that arrive while every thread is busy
 * simply form the next batch. A batch that is already full does not wait for a
 * thread to finish: it is handed over at once and queues in a busy thread (one
 * per thread), so the thread goes on without waiting for this (main) thread to
 * answer and dispatch — under load that wait, a few ms per call while the main
 * thread serialises answers, left the model idle ~5% of the time.
 */

export class QueueFullError extends Error {
  override name = "QueueFullError";
  constructor(readonly retryAfterSec: number) {
    super("queue is full");
  }
}

export interface BatchRun<O> {
  (texts: string[]): Promise<O[]>;
}

export interface BatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
  /** Most inputs waiting; a request that would go past it is refused. */
  queueMax: number;
  /**
   * Most padded characters per model call (inputs × longest input). The model
   * pads a batch to its longest input, so one long text among many short ones
   * would make every short one cost as much as it; the batch closes early instead.
   */
  maxBatchChars: number;
  /** Model calls that may run at once (model threads); 1 when unset. */
  concurrency?: number;
  onBatch?: (size: number) => void;
}

interface Job<O> {
  texts: string[];
  results: O[];
  remaining: number;
  done: boolean;
  resolve: (r: O[]) => void;
  reject: (e: unknown) => void;
}

interface Entry<O> {
  job: Job<O>;
  index: number;
}

export class DynamicBatcher<O> {
  private queue: Entry<O>[] = [];
  private running = 0;
  private timer?: NodeJS.Timeout;
  private idleWaiters: (() => void)[] = [];
  /** Recent throughput, for Retry-After: inputs per second of the last model calls. */
  private rate = 0;

  constructor(
    private readonly run: BatchRun<O>,
    private readonly opts: BatcherOptions,
  ) {}

  /** Inputs waiting for the model (not counting the batch being embedded). */
  get depth(): number {
    return this.queue.length;
  }

  /** Embed `texts`; resolves with one output per text, in order. Throws QueueFullError at once when full. */
  submit(texts: string[], signal?: AbortSignal): Promise<O[]> {
    if (this.queue.length + texts.length > this.opts.queueMax) {
      throw new QueueFullError(this.retryAfterSec());
    }
    return new Promise<O[]>((resolve, reject) => {
      const job: Job<O> = { texts, results: new Array<O>(texts.length), remaining: texts.length, done: false, resolve, reject };
      if (signal) {
        // A client that went away: its inputs that have not reached the model are dropped.
        const onAbort = () => this.cancel(job, signal.reason);
        if (signal.aborted) return onAbort();
        signal.addEventListener("abort", onAbort, { once: true });
      }
      for (let i = 0; i < texts.length; i++) this.queue.push({ job, index: i });
      this.schedule();
    });
  }

  /** Resolves once the queue is empty and no model call is running (graceful shutdown). */
  idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private cancel(job: Job<O>, reason: unknown) {
    if (job.done) return;
    job.done = true;
    this.queue = this.queue.filter((e) => e.job !== job);
    job.reject(reason);
    this.notifyIdle();
  }

  /** No call may start now: every thread computes one and, for a full batch, has one queued too. */
  private get full(): boolean {
    const threads = this.opts.concurrency ?? 1;
    return this.running >= (this.queue.length >= this.opts.maxBatch ? 2 * threads : threads);
  }

  private schedule() {
    if (this.full || this.queue.length === 0) return;
    if (this.queue.length >= this.opts.maxBatch) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else if (!this.timer) {
      // maxWaitMs 0 still waits one turn of the event loop, so requests
      // parsed in the same turn share a batch.
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.opts.maxWaitMs);
    }
  }

  private take(): Entry<O>[] {
    const batch: Entry<O>[] = [];
    let longest = 0;
    while (this.queue.length > 0 && batch.length < this.opts.maxBatch) {
      const next = this.queue[0] as Entry<O>;
      const len = Math.max(longest, next.job.texts[next.index]?.length ?? 0);
      if (batch.length > 0 && (batch.length + 1) * len > this.opts.maxBatchChars) break;
      longest = len;
      batch.push(next);
      this.queue.shift();
    }
    return batch;
  }

  private async flush() {
    if (this.full) return;
    const batch = this.take();
    if (batch.length === 0) return this.notifyIdle();
    this.running++;
    this.opts.onBatch?.(batch.length);
    const started = performance.now();
    try {
      const call = this.run(batch.map((e) => e.job.texts[e.index] as string));
      // Another thread may be free for what is left.
      if (this.queue.length > 0) this.schedule();
      const out = await call;
      const secs = (performance.now() - started) / 1000;
      this.rate = batch.length / Math.max(secs, 1e-3);
      batch.forEach((e, i) => {
        const job = e.job;
        if (job.done) return;
        job.results[e.index] = out[i] as O;
        if (--job.remaining === 0) {
          job.done = true;
          job.resolve(job.results);
        }
      });
    } catch (err) {
      for (const e of batch) {
        if (e.job.done) continue;
        this.cancel(e.job, err);
      }
    } finally {
      this.running--;
    }
    // Whatever arrived during the call has waited long enough: go again at once.
    if (this.queue.length > 0) void this.flush();
    else this.notifyIdle();
  }

  private notifyIdle() {
    if (this.running > 0 || this.queue.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private retryAfterSec(): number {
    if (this.rate <= 0) return 1;
    return Math.max(1, Math.ceil(this.queue.length / this.rate));
  }
}
