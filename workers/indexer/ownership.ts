/**
 * The partitions of EMBED_OUTPUT_TOPIC this emb-indexer owns in its group, and
 * how far it is with each. A partition is `loading` from its assignment until
 * the index first reaches the partition's end as it was at assignment (a
 * newly assigned partition is rebuilt from the topic), `live` after; it stays
 * live while it follows new records. Queries are answered only from owned
 * partitions, and the answer says which are still loading.
 */
export interface PartitionState {
  partition: number;
  state: "loading" | "live";
  /** Next offset the index applies: every record before it is in the index (or dead-lettered). */
  applied: number;
  /** The partition's end (read_committed) as seen at assignment; null until known. */
  end: number | null;
}

interface Owned {
  live: boolean;
  /** Where the consumer is: the index's stored offset, or past transaction markers after it. */
  position: number;
  end: number | null;
}

export class PartitionOwnership {
  private owned = new Map<number, Owned>();
  /** Set at the first assignment: until then, the instance owns nothing it could vouch for. */
  private assignedOnce = false;

  constructor(private readonly applied: (partition: number) => number) {}

  /**
   * A new assignment: `partitions` are this member's now. Partitions it kept
   * keep their state; new ones start loading. Returns the partitions no longer
   * owned (the caller releases them from the index).
   */
  assign(partitions: readonly number[]): number[] {
    this.assignedOnce = true;
    const next = new Map<number, Owned>();
    for (const p of partitions) next.set(p, this.owned.get(p) ?? { live: false, position: this.applied(p), end: null });
    const revoked = [...this.owned.keys()].filter((p) => !next.has(p));
    this.owned = next;
    return revoked;
  }

  /** The partition's end as seen at (or just after) assignment; a partition already there is live at once. */
  setEnd(partition: number, end: number): void {
    const o = this.owned.get(partition);
    if (!o || o.end !== null) return;
    o.end = end;
    this.check(o, partition);
  }

  /** The consumer is at `position` of `partition` (after a batch applied, or past transaction markers). */
  reached(partition: number, position: number): void {
    const o = this.owned.get(partition);
    if (!o) return;
    o.position = Math.max(o.position, position);
    this.check(o, partition);
  }

  owns(partition: number): boolean {
    return this.owned.has(partition);
  }

  /** False until the group first assigned partitions to this member. */
  get assigned(): boolean {
    return this.assignedOnce;
  }

  partitions(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  list(): PartitionState[] {
    return this.partitions().map((partition) => {
      const o = this.owned.get(partition) as Owned;
      return { partition, state: o.live ? "live" : "loading", applied: this.applied(partition), end: o.end };
    });
  }

  private check(o: Owned, partition: number): void {
    if (o.live || o.end === null) return;
    if (Math.max(o.position, this.applied(partition)) >= o.end) o.live = true;
  }
}
