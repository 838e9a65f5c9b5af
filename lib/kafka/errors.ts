/**
 * What a Kafka (or network) failure means, read one way for every worker.
 * kafkajs wraps the protocol error it gave up on (`originalError`), standard
 * errors wrap with `cause`: each check walks that chain, outermost first.
 */

/** The error and the errors it wraps, outermost first (a few levels: enough for kafkajs' retrier). */
export function errorChain(err: unknown): unknown[] {
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

/** Kafka protocol error types (`NOT_COORDINATOR`, …) anywhere in the chain. */
export function kafkaErrorTypes(err: unknown): string[] {
  return errorChain(err)
    .map((e) => (e as { type?: unknown } | null)?.type)
    .filter((t): t is string => typeof t === "string");
}

/** The group moved on without us: the partition may no longer be ours. */
export const REBALANCE_TYPES = new Set(["REBALANCE_IN_PROGRESS", "UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION", "FENCED_INSTANCE_ID"]);

/** The producer's epoch or transaction state is gone: a new producer under the same transactional id takes over. */
export const PRODUCER_STATE_TYPES = new Set([
  "PRODUCER_FENCED",
  "INVALID_PRODUCER_EPOCH",
  "INVALID_TXN_STATE",
  "UNKNOWN_PRODUCER_ID",
  "INVALID_PRODUCER_ID_MAPPING",
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "TRANSACTION_TIMED_OUT",
  "TRANSACTION_COORDINATOR_FENCED",
]);

/** Protocol errors about the cluster's state, never about the records (Kafka flags some of them non-retriable). */
const CLUSTER_TYPES = new Set([
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

/**
 * kafkajs' own errors for a broker it cannot reach, metadata it lacks, or an
 * answer that did not come in time. Not KafkaJSNumberOfRetriesExceeded: what it
 * gave up on (its originalError, further down the chain) says which it was.
 */
const KAFKAJS_UNREACHABLE = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNoBrokerAvailableError",
  "KafkaJSMetadataNotLoaded",
  "KafkaJSTopicMetadataNotLoaded",
  "KafkaJSStaleTopicMetadataAssignment",
  "KafkaJSGroupCoordinatorNotFound",
  "KafkaJSTimeout",
  "KafkaJSLockTimeout",
  "KafkaJSFetcherRebalanceError",
  "TimeoutError",
  "AbortError",
]);

/** System and undici error codes of a network that is not there (yet). */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ENOTFOUND",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

/** Kafka said this producer's epoch is stale: another producer with its transactional id has initialised since. */
export function isFenced(err: unknown): boolean {
  return kafkaErrorTypes(err).some((t) => t === "INVALID_PRODUCER_EPOCH" || t === "PRODUCER_FENCED");
}

/** The broker refused a record or batch for its size (retrying the same bytes cannot succeed). */
export function isTooLarge(err: unknown): boolean {
  return kafkaErrorTypes(err).some((t) => t === "MESSAGE_TOO_LARGE" || t === "RECORD_LIST_TOO_LARGE");
}

/** The group is rebalancing or has moved on. */
export function isRebalance(err: unknown): boolean {
  return kafkaErrorTypes(err).some((t) => REBALANCE_TYPES.has(t));
}

/**
 * The rebalance error itself, unwrapped: kafkajs' consumer rejoins the group
 * only when the error thrown from eachBatch carries the type at its top level;
 * a wrapped one is taken for a crash (and a non-retriable one for a fatal one).
 */
export function rebalanceCause(err: unknown): unknown {
  return errorChain(err).find((e) => REBALANCE_TYPES.has(String((e as { type?: unknown } | null)?.type))) ?? err;
}

/** The producer's epoch or transaction state is gone. */
export function isProducerStateLost(err: unknown): boolean {
  return kafkaErrorTypes(err).some((t) => PRODUCER_STATE_TYPES.has(t));
}

/**
 * The broker or the network is away, slow or moving leaders and
 * coordinators: wait and try again. Nothing a record did.
 */
export function isOutage(err: unknown): boolean {
  return errorChain(err).some((e) => {
    if (!(e instanceof Error)) return false;
    const { retriable, type, code } = e as { retriable?: unknown; type?: unknown; code?: unknown };
    return (
      retriable === true ||
      KAFKAJS_UNREACHABLE.has(e.name) ||
      (typeof type === "string" && CLUSTER_TYPES.has(type)) ||
      (typeof code === "string" && NETWORK_CODES.has(code))
    );
  });
}
