/**
 * A Kafka record timestamp (milliseconds since the epoch; kafkajs gives it as a
 * decimal string) → epoch seconds as a number with millisecond precision
 * (ms / 1000 in IEEE double arithmetic, e.g. "1700000000123" → 1700000000.123).
 * A negative timestamp (Kafka's -1 for "none"), a missing one or anything that
 * is not a non-negative integer gives null.
 */
export function kafkaTimestampToSeconds(ms: string | number | bigint | null | undefined): number | null {
  if (typeof ms === "bigint") ms = ms.toString();
  if (typeof ms === "string") {
    if (!/^\d+$/.test(ms)) return null;
    ms = Number(ms);
  }
  if (typeof ms !== "number" || !Number.isSafeInteger(ms) || ms < 0) return null;
  return ms / 1000;
}
