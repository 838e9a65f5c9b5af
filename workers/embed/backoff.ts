import { setTimeout as sleep } from "node:timers/promises";

/**
 * Capped exponential backoff for waiting out an outage: 0.5 s, 1 s, 2 s, …,
 * never more than `capMs` between tries, so the worker notices within a few
 * seconds that the upstream is back. `reset()` after a success.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly firstMs = 500,
    private readonly capMs = 5_000,
  ) {}

  nextDelayMs(): number {
    const ms = Math.min(this.capMs, this.firstMs * 2 ** this.attempt);
    this.attempt++;
    return ms;
  }

  /** Sleep the next delay; rejects with the signal's reason when it aborts. */
  wait(signal?: AbortSignal): Promise<void> {
    return sleep(this.nextDelayMs(), undefined, { signal });
  }

  reset(): void {
    this.attempt = 0;
  }
}
