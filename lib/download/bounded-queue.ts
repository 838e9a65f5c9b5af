/**
 * A hand-off between a push-based reader (a Kafka read's callback) and a
 * pull-based one (a ReadableStream's `pull`): `push` resolves only once the
 * item fits under `capacity`, so a slow puller makes the pusher wait instead
 * of letting items pile up. Either side may be stopped by its signal.
 */
export class BoundedQueue<T> {
  private readonly items: T[] = [];
  private ended = false;
  private failure: { error: unknown } | undefined;
  private wakePush: (() => void) | undefined;
  private wakeShift: (() => void) | undefined;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error("capacity must be at least 1");
  }

  get size(): number {
    return this.items.length;
  }

  /** Queue `item`, waiting while the queue is full. Rejects when `signal` aborts or the queue was ended. */
  async push(item: T, signal: AbortSignal): Promise<void> {
    while (this.items.length >= this.capacity) {
      signal.throwIfAborted();
      if (this.ended) throw new Error("queue ended");
      await this.wait(signal, (wake) => (this.wakePush = wake));
    }
    signal.throwIfAborted();
    if (this.ended) throw new Error("queue ended");
    this.items.push(item);
    this.wakeShift?.();
  }

  /** No more items; `error` makes the puller throw it once the queue is drained. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (error !== undefined) this.failure = { error };
    this.wakeShift?.();
    this.wakePush?.();
  }

  /** The next item, waiting for one; `done` once ended and drained. */
  async shift(signal: AbortSignal): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      signal.throwIfAborted();
      if (this.items.length > 0) {
        const value = this.items.shift() as T;
        this.wakePush?.();
        return { done: false, value };
      }
      if (this.ended) {
        if (this.failure) throw this.failure.error;
        return { done: true, value: undefined };
      }
      await this.wait(signal, (wake) => (this.wakeShift = wake));
    }
  }

  /** Wait for a wake-up or the signal; never rejects (callers re-check). */
  private wait(signal: AbortSignal, register: (wake: () => void) => void): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      register(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
