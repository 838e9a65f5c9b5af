/**
 * What /health reports: `ok`, or `degraded` with one reason per troubled
 * component (the embedding service, Kafka, RedDB), and `paused` when an
 * operator paused consumption. Listeners hear every ok ⇄ degraded change of a
 * component, e.g. to pause consumption during an embedding outage.
 */
export type Component = "embedding" | "kafka" | "reddb";

export class Health {
  private readonly reasons = new Map<Component, { reason: string; since: number }>();
  private readonly listeners = new Set<(component: Component, degraded: boolean) => void>();

  degrade(component: Component, reason: string): void {
    const was = this.reasons.get(component);
    this.reasons.set(component, { reason, since: was?.since ?? Date.now() });
    if (!was) for (const l of this.listeners) l(component, true);
  }

  recover(component: Component): void {
    if (!this.reasons.delete(component)) return;
    for (const l of this.listeners) l(component, false);
  }

  isDegraded(component?: Component): boolean {
    return component ? this.reasons.has(component) : this.reasons.size > 0;
  }

  onChange(listener: (component: Component, degraded: boolean) => void): void {
    this.listeners.add(listener);
  }

  snapshot() {
    return {
      status: this.reasons.size === 0 ? ("ok" as const) : ("degraded" as const),
      reasons: [...this.reasons].map(([component, r]) => ({ component, reason: r.reason, since_ts: r.since / 1000 })),
    };
  }
}
