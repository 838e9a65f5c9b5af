import { isTooLarge } from "../../lib/kafka/record-limits";
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

const REBALANCE = new Set(["REBALANCE_IN_PROGRESS", "UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION", "FENCED_INSTANCE_ID"]);
const PRODUCER = new Set(["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH", "INVALID_TXN_STATE", "UNKNOWN_PRODUCER_ID", "INVALID_PRODUCER_ID_MAPPING", "OUT_OF_ORDER_SEQUENCE_NUMBER", "TRANSACTION_TIMED_OUT"]);
const TRANSIENT_TYPES = new Set([
  "COORDINATOR_NOT_AVAILABLE",
  "NOT_COORDINATOR",
  "COORDINATOR_LOAD_IN_PROGRESS",
  "CONCURRENT_TRANSACTIONS",
  "NOT_ENOUGH_REPLICAS",
  "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
  "NETWORK_EXCEPTION",
  "REQUEST_TIMED_OUT",
  "LEADER_NOT_AVAILABLE",
  "NOT_LEADER_FOR_PARTITION",
  "NOT_LEADER_OR_FOLLOWER",
  "KAFKA_STORAGE_ERROR",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "THROTTLING_QUOTA_EXCEEDED",
]);
/** kafkajs' own errors for a broker it cannot reach or that did not answer in time. */
const TRANSIENT_NAMES = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSMetadataNotLoaded",
  "KafkaJSTopicMetadataNotLoaded",
  "KafkaJSStaleTopicMetadataAssignment",
  "KafkaJSGroupCoordinatorNotFound",
  "KafkaJSLockTimeout",
  "KafkaJSTimeout",
]);
const NODE_NET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/** The error and the errors it wraps (kafkajs: originalError; standard: cause), outermost first. */
function chain(err: unknown): unknown[] {
  const out: unknown[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 6 && e !== undefined && e !== null; depth++) {
    out.push(e);
    if (typeof e !== "object") break;
    const next = (e as { originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
    if (next === e) break;
    e = next;
  }
  return out;
}

export function classifyFailure(err: unknown): FailureKind {
  const errors = chain(err);
  if (errors.some((e) => e instanceof DlqTooSmallError)) return "dlq_too_small";
  if (isTooLarge(err)) return "too_large";
  const types = errors.map((e) => (e as { type?: unknown }).type).filter((t): t is string => typeof t === "string");
  if (types.some((t) => REBALANCE.has(t))) return "rebalance";
  if (types.some((t) => PRODUCER.has(t))) return "producer";
  // kafkajs' transaction state machine refuses an operation after a failure it could not clean up.
  if (errors.some((e) => e instanceof Error && /transaction state/i.test(e.message))) return "producer";
  if (types.some((t) => TRANSIENT_TYPES.has(t))) return "transient";
  if (errors.some((e) => e instanceof Error && (TRANSIENT_NAMES.has(e.name) || NODE_NET_CODES.has(String((e as { code?: unknown }).code))))) return "transient";
  if (errors.some((e) => (e as { retriable?: unknown }).retriable === true)) return "transient";
  return "unknown";
}

/** The first line of an error's message, for logs, /health and DLQ records. */
export function errorLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return (msg.split(/\r?\n/)[0] ?? "").slice(0, 500);
}
