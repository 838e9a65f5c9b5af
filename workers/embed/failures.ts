import { errorChain, isFenced, isOutage, isProducerStateLost, isRebalance, isTooLarge } from "../../lib/kafka/errors";

/**
 * Why a unit of work failed, as far as deciding what to do next goes:
 *  - `transient`: Kafka unreachable or busy, a timeout, fencing, a rebalance, a
 *    full or unwritable disk — nothing a record did; waited out, never counted
 *    against the records, never dead-lettered;
 *  - `too_large`: the broker refused a record or batch for its size (its limit
 *    was lowered after we read it): read the limits again and redo the unit;
 *  - `unclassified`: anything else. Retried a bounded number of times, then the
 *    unit is isolated record by record and the record that keeps failing is
 *    dead-lettered as `unprocessable`.
 */
export type FailureKind = "transient" | "too_large" | "unclassified";

/** File system errors of the Parquet write: the machine, not the record. */
const DISK_CODES = new Set(["ENOSPC", "EDQUOT", "EIO", "EROFS", "EACCES", "EPERM", "EMFILE", "ENFILE", "EBUSY", "ABORT_ERR"]);

export function classifyFailure(err: unknown): FailureKind {
  if (isTooLarge(err)) return "too_large";
  if (isOutage(err) || isFenced(err) || isRebalance(err) || isProducerStateLost(err)) return "transient";
  const onDisk = errorChain(err).some((e) => typeof (e as { code?: unknown } | null)?.code === "string" && DISK_CODES.has((e as { code: string }).code));
  return onDisk ? "transient" : "unclassified";
}

/** Attempts of one unit (same first offset) before it is split into single records, and of one record before it is dead-lettered. */
export const MAX_UNIT_ATTEMPTS = 3;

/** What the consumer does next with a partition whose unit failed. */
export type FailureAction =
  /** Wait (backoff), then consume again from the committed offset; nothing counted. */
  | { kind: "wait" }
  /** Consume again from the committed offset, attempt `attempt` of MAX_UNIT_ATTEMPTS. */
  | { kind: "retry"; attempt: number }
  /** Consume again, one record per unit up to and including `through`. */
  | { kind: "isolate"; through: string }
  /** The single record at `offset` failed every attempt: dead-letter it with this reason and move on. */
  | { kind: "dead_letter"; offset: string; reason: "too_large" | "unprocessable"; attempts: number };

interface PartitionFailure {
  /** First offset of the unit that failed. */
  at: string;
  attempts: number;
  /** While set, records up to and including this offset are committed one per unit. */
  isolateThrough?: string;
  /** For /health. */
  reason: string;
  since: number;
}

/**
 * Per partition, the failures of its units and the isolation they led to:
 * a bounded number of tries, then record by record, then the DLQ. A commit
 * past the failed range ends it (`succeeded`); a rebalance forgets it all.
 */
export class UnitFailures {
  private readonly byPartition = new Map<number, PartitionFailure>();

  /** Record a failure of the unit `[first, last]` and decide what comes next. */
  failed(partition: number, first: string, last: string, kind: FailureKind, reason: string): FailureAction {
    const was = this.byPartition.get(partition);
    const since = was?.since ?? Date.now();
    if (kind === "transient") {
      this.byPartition.set(partition, { ...(was ?? { at: first, attempts: 0 }), reason, since });
      return { kind: "wait" };
    }
    const attempts = was?.at === first ? was.attempts + 1 : 1;
    const isolateThrough = was?.isolateThrough;
    if (attempts < MAX_UNIT_ATTEMPTS) {
      this.byPartition.set(partition, { at: first, attempts, isolateThrough, reason: `attempt ${attempts} of ${MAX_UNIT_ATTEMPTS} failed: ${reason}`, since });
      return { kind: "retry", attempt: attempts };
    }
    if (first === last) {
      this.byPartition.set(partition, { at: first, attempts, isolateThrough, reason: `dead-lettering offset ${first}: ${reason}`, since });
      return { kind: "dead_letter", offset: first, reason: kind === "too_large" ? "too_large" : "unprocessable", attempts };
    }
    const through = isolateThrough !== undefined && BigInt(isolateThrough) > BigInt(last) ? isolateThrough : last;
    this.byPartition.set(partition, { at: first, attempts: 0, isolateThrough: through, reason: `isolating records ${first}..${through} one by one after ${attempts} failures: ${reason}`, since });
    return { kind: "isolate", through };
  }

  /** The unit ending at `last` committed: the partition advances again. */
  succeeded(partition: number, last: string): void {
    const f = this.byPartition.get(partition);
    if (!f) return;
    if (f.isolateThrough !== undefined && BigInt(last) < BigInt(f.isolateThrough)) {
      // Still isolating: the failure being counted is behind us, the range is not.
      if (BigInt(last) >= BigInt(f.at)) this.byPartition.set(partition, { ...f, at: (BigInt(last) + 1n).toString(), attempts: 0 });
      return;
    }
    this.byPartition.delete(partition);
  }

  /** Records up to and including this offset go one per unit (undefined: normal units). */
  isolateThrough(partition: number): string | undefined {
    return this.byPartition.get(partition)?.isolateThrough;
  }

  forget(partition?: number): void {
    if (partition === undefined) this.byPartition.clear();
    else this.byPartition.delete(partition);
  }

  /** Partitions not advancing because of a failure, for /health. */
  stalls(): { partition: number; offset: string; reason: string; since: number }[] {
    return [...this.byPartition].map(([partition, f]) => ({ partition, offset: f.at, reason: f.reason, since: f.since }));
  }
}

/**
 * Consecutive units of `messages` (kafkajs gives them in offset order): single
 * records up to and including `isolateThrough`, then runs of at most `maxRecords`.
 */
export function splitUnits<T extends { offset: string }>(messages: T[], maxRecords: number, isolateThrough?: string): T[][] {
  const units: T[][] = [];
  let i = 0;
  if (isolateThrough !== undefined) {
    const through = BigInt(isolateThrough);
    for (; i < messages.length && BigInt(messages[i]!.offset) <= through; i++) units.push([messages[i]!]);
  }
  for (; i < messages.length; i += maxRecords) units.push(messages.slice(i, i + maxRecords));
  return units;
}
