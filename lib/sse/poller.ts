import { RingBuffer } from "./ring-buffer";

/** One event as it goes on the wire: `id:`, `event:`, `data:` (one line of JSON). */
export interface SseEvent {
  id: number;
  event: string;
  data: string;
}

export type Listener = (event: SseEvent) => void;

export interface PollerOptions<T> {
  /** Event name on the wire, e.g. `infermesh`. */
  event: string;
  intervalMs: number;
  /** Events kept for new subscribers and `Last-Event-ID` resumes. */
  history: number;
  /** One poll of the upstream. Must not throw for an absent upstream: return a payload that says so. */
  poll: (signal: AbortSignal) => Promise<T>;
}

/**
 * Polls one upstream on an interval while anyone listens, and fans each result
 * out to every subscriber. Started by the first subscriber, stopped (timer
 * cleared, poll in flight aborted) when the last one leaves. Polls never
 * overlap: the next is scheduled when one ends.
 */
export class Poller<T> {
  private readonly listeners = new Set<Listener>();
  private readonly ring: RingBuffer<SseEvent>;
  private nextId = 1;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: AbortController | undefined;
  private lastPollAt = 0;
  /** Polls started since this poller was created (tests and benchmarks read it). */
  polls = 0;

  constructor(private readonly opts: PollerOptions<T>) {
    this.ring = new RingBuffer(opts.history);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  get running(): boolean {
    return this.timer !== undefined || this.inFlight !== undefined;
  }

  /**
   * Events a (re)connecting subscriber should get first: those after `lastId`
   * when the buffer still holds it, else the whole buffer.
   */
  backlog(lastId?: number): SseEvent[] {
    const all = this.ring.toArray();
    if (lastId === undefined) return all;
    const oldest = all[0]?.id ?? this.nextId;
    if (lastId < oldest - 1 || lastId >= this.nextId) return all;
    return all.filter((e) => e.id > lastId);
  }

  latest(): SseEvent | undefined {
    return this.ring.last();
  }

  /** Listen for new events; returns an idempotent unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.start();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  private start(): void {
    // A subscriber arriving soon after the last left waits out the interval instead of polling at once.
    const wait = Math.max(0, this.lastPollAt + this.opts.intervalMs - Date.now());
    this.schedule(this.latest() ? wait : 0);
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlight?.abort();
    this.inFlight = undefined;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    const controller = new AbortController();
    this.inFlight = controller;
    this.polls++;
    this.lastPollAt = Date.now();
    let payload: unknown;
    try {
      payload = await this.opts.poll(controller.signal);
    } catch (err) {
      payload = { error: "poll_failed", message: err instanceof Error ? err.message : String(err), timestamp: Date.now() / 1000 };
    }
    if (controller.signal.aborted || this.inFlight !== controller) return;
    this.inFlight = undefined;
    this.publish(payload);
    if (this.listeners.size > 0) this.schedule(Math.max(0, this.lastPollAt + this.opts.intervalMs - Date.now()));
  }

  private publish(payload: unknown): void {
    const event: SseEvent = { id: this.nextId++, event: this.opts.event, data: JSON.stringify(payload) };
    this.ring.push(event);
    for (const listener of [...this.listeners]) listener(event);
  }
}
