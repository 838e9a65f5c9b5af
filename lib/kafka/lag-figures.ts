/**
 * The pure parts of the console's lag (lib/upstreams/lag.ts): where a
 * group's read starts, a bounded cache of record counts, and time to drain.
 * Lag is counted in records a read_committed consumer would still get
 * (lib/kafka/readable-count.ts), never in offsets.
 */

/**
 * Where a group's next read of a partition starts: its committed offset, or
 * the log start when it has none; never below the log start (records before
 * it are gone) nor past the end.
 */
export function readStart(committed: number | null, low: number, end: number): number {
  return Math.min(end, Math.max(low, committed ?? low));
}

/** Seconds to drain `lag` records at `rate` records/s: 0 when caught up, null when records wait and nothing is consumed. */
export function drainSec(lag: number, rate: number | null): number | null {
  if (lag === 0) return 0;
  if (rate === null || rate <= 0) return null;
  return Math.round(lag / rate);
}

/** Records per second consumed between two polls; null on the first poll or over no time. */
export function consumeRate(consumed: number | null, ms: number): number | null {
  if (consumed === null || ms <= 0) return null;
  return Number(((consumed * 1000) / ms).toFixed(2));
}

/**
 * Counts by (topic, partition, from, to): an idle stack asks the same
 * question every poll and reads nothing after the first. Oldest entries go
 * first past `max` (a few per partition and group are live at a time).
 */
export class CountCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly max = 4_096) {}

  static key(topic: string, partition: number, from: number, to: number): string {
    return `${topic}\u0000${partition}\u0000${from}\u0000${to}`;
  }

  get(key: string): V | undefined {
    const v = this.entries.get(key);
    if (v !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, v);
    }
    return v;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
