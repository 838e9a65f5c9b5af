/**
 * Token-aware dynamic batching across concurrent requests: inputs from every
 * request wait in one bounded FIFO queue and go to the model together, at
 * most `maxBatch` inputs and `maxBatchTokens` padded tokens per call, and
 * `concurrency` calls computing at a time (one per model session).
 *
 * A call pads every input to its longest, so the batch is built around the
 * oldest waiting input (it always goes first: nothing starves) with the
 * inputs nearest to it in length from the first `window` of the queue, as
 * long as at least half of the call's padded tokens are real ones; one long
 * text then rides with other long ones (or goes alone, to another session)
 * instead of making a batch of short ones cost as much as it, even when the
 * token budget would allow it.
 *
 * A batch closes when it is full (maxBatch inputs or the token budget can be
 * filled), or `maxWaitMs` after the first input arrived while a session was
 * idle; inputs that arrive while every session is busy simply form the next
 * batch. A full batch does not wait for a session to finish: it is handed
 * over at once and queues in a busy session's thread (one per session), so
 * the session goes on without waiting for this (main) thread to answer and
 * dispatch — under load that wait, a few ms per call while the main thread
 * serialises answers, left the model idle ~5% of the time.
 */

export class QueueFullError extends Error {
  override name = "QueueFullError";
  constructor(readonly retryAfterSec: number) {
    super("queue is full");
  }
}

export interface BatchRun<I, O> {
  (items: I[]): Promise<O[]>;
}

export interface BatcherOptions<I> {
  maxBatch: number;
  maxWaitMs: number;
  /** Most inputs waiting; a request that would go past it is refused. */
  queueMax: number;
  /**
   * Most padded tokens per model call (inputs × longest input). Bounds the
   * memory and time of one call; an input longer than this goes alone.
   */
  maxBatchTokens: number;
  /** An input's length in tokens. */
  tokensOf: (item: I) => number;
  /** How many of the oldest waiting inputs a batch is chosen from (default 4 × maxBatch, at least 64). */
  window?: number;
  /** Model calls that may run at once (model sessions); 1 when unset. */
  concurrency?: number;
  onBatch?: (size: number, paddedTokens: number) => void;
}

interface Job<I, O> {
  items: I[];
  results: O[];
  remaining: number;
  done: boolean;
  resolve: (r: O[]) => void;
  reject: (e: unknown) => void;
}

interface Entry<I, O> {
  job: Job<I, O>;
  index: number;
  tokens: number;
}

export class DynamicBatcher<I, O> {
  private queue: Entry<I, O>[] = [];
  /** Sum of the waiting inputs' tokens. */
  private queuedTokens = 0;
  private running = 0;
  private timer?: NodeJS.Timeout;
  private idleWaiters: (() => void)[] = [];
  /** Recent throughput, for Retry-After: inputs per second of the last model calls. */
  private rate = 0;
  private readonly window: number;

  constructor(
    private readonly run: BatchRun<I, O>,
    private readonly opts: BatcherOptions<I>,
  ) {
    this.window = opts.window ?? Math.max(64, 4 * opts.maxBatch);
  }

  /** Inputs waiting for the model (not counting the batches being embedded). */
  get depth(): number {
    return this.queue.length;
  }

  /** Throws QueueFullError when `n` more inputs would not fit in the queue (to refuse before tokenizing them). */
  assertRoom(n: number): void {
    if (this.queue.length + n > this.opts.queueMax) throw new QueueFullError(this.retryAfterSec());
  }

  /** Embed `items`; resolves with one output per item, in order. Throws QueueFullError at once when full. */
  submit(items: I[], signal?: AbortSignal): Promise<O[]> {
    this.assertRoom(items.length);
    return new Promise<O[]>((resolve, reject) => {
      const job: Job<I, O> = { items, results: new Array<O>(items.length), remaining: items.length, done: false, resolve, reject };
      if (signal) {
        // A client that went away: its inputs that have not reached the model are dropped.
        const onAbort = () => this.cancel(job, signal.reason);
        if (signal.aborted) return onAbort();
        signal.addEventListener("abort", onAbort, { once: true });
      }
      for (let i = 0; i < items.length; i++) {
        const tokens = this.opts.tokensOf(items[i] as I);
        this.queue.push({ job, index: i, tokens });
        this.queuedTokens += tokens;
      }
      this.schedule();
    });
  }

  /** Resolves once the queue is empty and no model call is running (graceful shutdown). */
  idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private cancel(job: Job<I, O>, reason: unknown) {
    if (job.done) return;
    job.done = true;
    this.queue = this.queue.filter((e) => e.job !== job);
    this.queuedTokens = this.queue.reduce((s, e) => s + e.tokens, 0);
    job.reject(reason);
    this.notifyIdle();
  }

  /** Enough is waiting to fill a batch: waiting longer would not make it bigger. */
  private get batchReady(): boolean {
    return this.queue.length >= this.opts.maxBatch || this.queuedTokens >= this.opts.maxBatchTokens;
  }

  /** No call may start now: every session computes one and, for a full batch, has one queued too. */
  private get full(): boolean {
    const sessions = this.opts.concurrency ?? 1;
    return this.running >= (this.batchReady ? 2 * sessions : sessions);
  }

  private schedule() {
    if (this.full || this.queue.length === 0) return;
    if (this.batchReady) {
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

  /**
   * The oldest waiting input, and the inputs nearest to it in length (the
   * older first among equals) from the window, while the batch stays within
   * maxBatch inputs and maxBatchTokens padded tokens, and padding stays at
   * most half of it.
   */
  private take(): { batch: Entry<I, O>[]; paddedTokens: number } {
    const first = this.queue[0];
    if (!first) return { batch: [], paddedTokens: 0 };
    const { maxBatch, maxBatchTokens } = this.opts;
    const w = Math.min(this.window, this.queue.length);
    const order = Array.from({ length: w - 1 }, (_, k) => k + 1);
    order.sort((a, b) => Math.abs((this.queue[a] as Entry<I, O>).tokens - first.tokens) - Math.abs((this.queue[b] as Entry<I, O>).tokens - first.tokens) || a - b);
    const chosen = [0];
    let longest = first.tokens;
    let real = first.tokens;
    for (const k of order) {
      if (chosen.length >= maxBatch) break;
      const tokens = (this.queue[k] as Entry<I, O>).tokens;
      const len = Math.max(longest, tokens);
      const padded = (chosen.length + 1) * len;
      if (padded > maxBatchTokens || padded > 2 * (real + tokens)) continue;
      longest = len;
      real += tokens;
      chosen.push(k);
    }
    chosen.sort((a, b) => a - b);
    const batch = chosen.map((k) => this.queue[k] as Entry<I, O>);
    const taken = new Set(batch);
    this.queue = this.queue.filter((e) => !taken.has(e));
    for (const e of batch) this.queuedTokens -= e.tokens;
    return { batch, paddedTokens: batch.length * longest };
  }

  private async flush() {
    if (this.full) return;
    const { batch, paddedTokens } = this.take();
    if (batch.length === 0) return this.notifyIdle();
    this.running++;
    this.opts.onBatch?.(batch.length, paddedTokens);
    const started = performance.now();
    try {
      const call = this.run(batch.map((e) => e.job.items[e.index] as I));
      // Another session may be free for what is left.
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
