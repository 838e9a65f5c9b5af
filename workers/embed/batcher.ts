import type { EmbedOutcome } from "./resilient-embed";

export interface BatcherOptions {
  /** A batch closes at this many texts (EMBED_BATCH_SIZE)… */
  size: number;
  /** …or this long after its first text arrived (EMBED_MAX_WAIT_SEC), whichever comes first. */
  maxWaitMs: number;
  /** Batches embedded at once. */
  maxInFlight: number;
}

interface Pending {
  text: string;
  resolve: (o: EmbedOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * Collects texts from every partition's unit of work into shared batches, so
 * three partitions with ten records each make one call of thirty, not three.
 * A batch closes at `size` texts or `maxWaitMs` after its first text, also when
 * nothing else arrives. Closed batches wait for a free slot (`maxInFlight`):
 * the queue, not the embedding service, absorbs a burst.
 */
export class Batcher {
  private readonly queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  /** Texts whose batch has closed but not yet been sent. */
  private closed = 0;

  constructor(
    private readonly embed: (texts: string[]) => Promise<EmbedOutcome[]>,
    private readonly opts: BatcherOptions,
    private readonly onBatch: (size: number) => void = () => {},
  ) {}

  /** One outcome per text, in order. */
  submit(texts: string[]): Promise<EmbedOutcome[]> {
    const outcomes = texts.map((text) => new Promise<EmbedOutcome>((resolve, reject) => this.queue.push({ text, resolve, reject })));
    this.schedule();
    return Promise.all(outcomes);
  }

  /** Texts waiting for a batch or for a slot. */
  get depth(): number {
    return this.queue.length;
  }

  private schedule(): void {
    const open = this.queue.length - this.closed;
    if (open >= this.opts.size) {
      this.closeBatch();
    } else if (open > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => this.closeBatch(), this.opts.maxWaitMs);
    }
    this.drain();
  }

  private closeBatch(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const open = this.queue.length - this.closed;
    this.closed += Math.min(open, this.opts.size);
    this.drain();
    // More than one batch may have queued up behind a full one.
    if (this.queue.length - this.closed > 0) this.schedule();
  }

  private drain(): void {
    while (this.closed > 0 && this.inFlight < this.opts.maxInFlight) {
      const n = Math.min(this.closed, this.opts.size);
      const batch = this.queue.splice(0, n);
      this.closed -= n;
      this.inFlight++;
      this.onBatch(batch.length);
      this.embed(batch.map((p) => p.text)).then(
        (outcomes) => batch.forEach((p, i) => p.resolve(outcomes[i] as EmbedOutcome)),
        (err: unknown) => batch.forEach((p) => p.reject(err)),
      ).finally(() => {
        this.inFlight--;
        this.drain();
      });
    }
  }
}
