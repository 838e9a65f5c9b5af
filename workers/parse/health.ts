/**
 * Which partitions are not advancing, and why: the data behind /health. A
 * partition is listed from the first failed attempt at its batch until the
 * batch commits (or the partition is given back in a rebalance). While any is
 * listed, the worker is `degraded` — alive (HTTP 200), but not moving on.
 */
export interface StalledPartition {
  topic: string;
  partition: number;
  /** The first offset not yet committed: where the partition stands. */
  offset: string;
  reason: string;
  /** When the partition stopped advancing, epoch seconds. */
  since_ts: number;
}

export type ProcessStatus = "starting" | "ok" | "stopping" | "failed";

export interface ParseHealthReport {
  status: ProcessStatus | "degraded";
  /** Why the process is not ok, one line (start-up or fatal failure). */
  detail?: string;
  partitions: StalledPartition[];
}

export class ParseHealth {
  process: ProcessStatus = "starting";
  detail: string | undefined;
  private readonly stalled = new Map<string, StalledPartition>();

  constructor(private readonly now: () => number = Date.now) {}

  stall(topic: string, partition: number, offset: string, reason: string): void {
    const key = `${topic}\0${partition}`;
    const was = this.stalled.get(key);
    // The time it stopped stays that of the first failure at this offset.
    const since = was && was.offset === offset ? was.since_ts : this.now() / 1000;
    this.stalled.set(key, { topic, partition, offset, reason, since_ts: since });
  }

  advance(topic: string, partition: number): void {
    this.stalled.delete(`${topic}\0${partition}`);
  }

  /** What /health serves: HTTP 200 for `ok` and `degraded` (the process is alive), 503 otherwise. */
  report(): ParseHealthReport {
    const partitions = [...this.stalled.values()];
    const status = this.process === "ok" && partitions.length > 0 ? "degraded" : this.process;
    return { status, ...(this.detail === undefined ? {} : { detail: this.detail }), partitions };
  }

  httpStatus(): number {
    const s = this.report().status;
    return s === "ok" || s === "degraded" ? 200 : 503;
  }
}
