import { errorChain, isOutage, isProducerStateLost, isRebalance, isTooLarge } from "../../lib/kafka/errors";
import { DlqTooSmallError } from "./dlq-record";

/**
 * Why a batch's transaction failed, as the parse loop acts on it:
 *  - `too_large`: the broker refused a record or batch for its size although
 *    it was checked against the limit we had read: the limit was lowered at
 *    run time. Re-read it and plan the batch again.
 *  - `rebalance`: the partition may no longer be ours. Give the batch back to
 *    kafkajs (it rejoins); nothing of it was committed.
 *  - `producer`: the producer's epoch or transaction state is gone (fenced,
 *    e.g. after a transaction timeout; unknown producer id; invalid state).
 *    A new producer with the same transactional id takes over.
 *  - `transient`: the broker is unreachable, slow, moving leaders or
 *    coordinators. Wait and try again, without limit.
 *  - `dlq_too_small`: the DLQ topic's limit leaves no room for a DLQ record.
 *    Wait for an operator to raise it (the limit is re-read on each try).
 *  - `unknown`: anything else. Tried a bounded number of times, then the
 *    batch is isolated record by record and the failing record dead-lettered.
 */
export type FailureKind = "too_large" | "rebalance" | "producer" | "transient" | "dlq_too_small" | "unknown";

export function classifyFailure(err: unknown): FailureKind {
  if (errorChain(err).some((e) => e instanceof DlqTooSmallError)) return "dlq_too_small";
  if (isTooLarge(err)) return "too_large";
  if (isRebalance(err)) return "rebalance";
  if (isProducerStateLost(err)) return "producer";
  // kafkajs' transaction state machine refuses an operation after a failure it could not clean up.
  if (errorChain(err).some((e) => e instanceof Error && /transaction state/i.test(e.message))) return "producer";
  if (isOutage(err)) return "transient";
  return "unknown";
}

/** The first line of an error's message, for logs, /health and DLQ records. */
export function errorLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return (msg.split(/\r?\n/)[0] ?? "").slice(0, 500);
}
