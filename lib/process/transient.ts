/**
 * Errors a start-up step should wait out rather than die of: the broker or an
 * upstream is not reachable yet, a request timed out. Reads kafkajs' wrapped
 * errors (originalError, cause) as `lib/kafka/errors.ts` does.
 */
const TRANSIENT_NAMES = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNumberOfRetriesExceeded",
  "KafkaJSMetadataNotLoaded",
  "KafkaJSGroupCoordinatorNotFound",
  "KafkaJSLockTimeout",
  "KafkaJSTimeout",
  "TimeoutError",
]);

const TRANSIENT_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND", "EPIPE", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_SOCKET"]);

export function isTransientError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 6 && e instanceof Error; depth++) {
    const { retriable, code } = e as { retriable?: unknown; code?: unknown };
    if (TRANSIENT_NAMES.has(e.name) || retriable === true || (typeof code === "string" && TRANSIENT_CODES.has(code))) return true;
    e = (e as { originalError?: unknown }).originalError ?? e.cause;
  }
  return false;
}
