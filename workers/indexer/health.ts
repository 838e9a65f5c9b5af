import type { PartitionOwnership } from "./ownership";

/** Why a partition is not advancing, and since when. */
export interface StalledPartition {
  partition: number;
  /** The next offset the index would apply. */
  offset: number;
  reason: string;
  since_ts: number;
}

/**
 * Partitions that are not advancing: a batch being retried, waiting on the
 * RedDB mirror or on the dead-letter topic. The consumer marks a partition when
 * a batch hits trouble and clears it once the batch is through (or the
 * partition is handed to another member). /health reports them as `degraded`.
 */
export class PartitionHealth {
  private readonly stalled = new Map<number, StalledPartition>();

  stall(partition: number, offset: number, reason: string): void {
    const was = this.stalled.get(partition);
    this.stalled.set(partition, { partition, offset, reason, since_ts: was?.offset === offset ? was.since_ts : Date.now() / 1000 });
  }

  clear(partition: number): void {
    this.stalled.delete(partition);
  }

  /** Keep only the partitions still assigned. */
  retain(assigned: readonly number[]): void {
    for (const p of this.stalled.keys()) if (!assigned.includes(p)) this.stalled.delete(p);
  }

  list(): StalledPartition[] {
    return [...this.stalled.values()].sort((a, b) => a.partition - b.partition);
  }
}

export type IndexerStatus = "starting" | "ok" | "degraded" | "stopping";

/**
 * The emb-indexer's /health body, as data (the HTTP layer only serialises it):
 * `ok`, or `degraded` with one `{partition, offset, reason}` per stalled
 * partition; `starting`/`stopping` around the consumer's life. `httpStatus` is
 * 200 whenever the process serves (ok or degraded): it is alive, and a
 * supervisor must not restart it for a stalled partition.
 */
export function indexerHealth(
  lifecycle: "starting" | "ok" | "stopping",
  partitions: PartitionHealth,
  index: { totalIds: number; dim: number | undefined },
  group?: { instance: string; ownership: Pick<PartitionOwnership, "list"> },
) {
  const stalled = partitions.list();
  const status: IndexerStatus = lifecycle === "ok" && stalled.length > 0 ? "degraded" : lifecycle;
  return {
    httpStatus: lifecycle === "ok" ? 200 : 503,
    body: {
      status,
      partitions: stalled,
      total_ids: index.totalIds,
      dim: index.dim ?? null,
      // `partitions` above lists the stalled ones (older field); `owned` every partition this instance owns, loading or live.
      ...(group ? { instance: group.instance, owned: group.ownership.list() } : {}),
      timestamp: Date.now() / 1000,
    },
  };
}
