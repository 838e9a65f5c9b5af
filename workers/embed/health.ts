/**
 * What /health reports: `ok`, or `degraded` with one reason per troubled
 * component (the embedding service, Kafka, RedDB) and one entry per input
 * partition that is not advancing (a unit being retried or isolated, an outage
 * being waited out, an operator pause), and `paused` when an operator paused
 * consumption. Listeners hear every ok ⇄ degraded change of a component, e.g.
 * to pause consumption during an embedding outage.
 */
import { redactUrl } from "../../lib/config/redact";

export type Component = "embedding" | "kafka" | "reddb";

/** An input partition that is not advancing: where it stands and why (the parse worker's /health lists the same fields). */
export interface PartitionStall {
  /** The input topic. */
  topic: string;
  partition: number;
  /** The next offset to commit (decimal string, as Kafka offsets are int64); null before the first is known. */
  offset: string | null;
  reason: string;
  /** Since when, epoch seconds. */
  since_ts: number;
}

export class Health {
  private readonly reasons = new Map<Component, { reason: string; since: number }>();
  private readonly listeners = new Set<(component: Component, degraded: boolean) => void>();
  private stalls: () => PartitionStall[] = () => [];

  degrade(component: Component, reason: string): void {
    const was = this.reasons.get(component);
    // /health is open (no token): an upstream's error message may quote its URL, credentials and all.
    this.reasons.set(component, { reason: redactUrl(reason), since: was?.since ?? Date.now() });
    if (!was) for (const l of this.listeners) l(component, true);
  }

  recover(component: Component): void {
    if (!this.reasons.delete(component)) return;
    for (const l of this.listeners) l(component, false);
  }

  /** A component, or with no argument anything at all (a component or a stalled partition). */
  isDegraded(component?: Component): boolean {
    return component ? this.reasons.has(component) : this.reasons.size > 0 || this.stalls().length > 0;
  }

  onChange(listener: (component: Component, degraded: boolean) => void): void {
    this.listeners.add(listener);
  }

  /** The first component in trouble, if any (what a waiting partition waits for). */
  trouble(): { component: Component; reason: string } | undefined {
    const [first] = this.reasons;
    return first && { component: first[0], reason: first[1].reason };
  }

  /** Where the partitions that are not advancing come from (the consumer knows). */
  reportStalls(source: () => PartitionStall[]): void {
    this.stalls = source;
  }

  /** One entry per component in trouble, and per input partition not advancing. */
  snapshot() {
    const partitions = this.stalls();
    return {
      status: this.reasons.size === 0 && partitions.length === 0 ? ("ok" as const) : ("degraded" as const),
      reasons: [...this.reasons].map(([component, r]) => ({ component, reason: r.reason, since_ts: r.since / 1000 })),
      partitions,
    };
  }
}
