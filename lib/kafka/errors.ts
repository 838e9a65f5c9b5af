/** Kafka said this producer's epoch is stale: another producer with its transactional id has initialised since. */
export function isFenced(err: unknown): boolean {
  // kafkajs wraps protocol errors (originalError) when it gives up retrying.
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    const type = (e as { type?: unknown }).type;
    if (type === "INVALID_PRODUCER_EPOCH" || type === "PRODUCER_FENCED") return true;
    e = (e as { originalError?: unknown }).originalError ?? e.cause;
  }
  return false;
}
