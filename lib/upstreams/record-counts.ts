import "server-only";
import { CountCache } from "@/lib/kafka/lag-figures";
import type { FetchPurpose } from "@/lib/kafka/partition-fetch";
import { countReadable, type ReadableCount } from "@/lib/kafka/readable-count";
import { kafka } from "./kafka";

/** Counts by (topic, partition, from, to), shared by the lag poller and the Topics page of this process: an idle stack reads nothing after the first ask. */
const counts = new CountCache<ReadableCount>();

/**
 * Records a read_committed consumer gets in [from, to) (lib/kafka/readable-count.ts),
 * cached while exact. A failed read is reported as the offset gap, not cached:
 * the next ask tries again.
 */
export async function countRecords(topic: string, partition: number, from: number, to: number, purpose: FetchPurpose): Promise<ReadableCount> {
  if (to <= from) return { records: 0, exact: true };
  const key = CountCache.key(topic, partition, from, to);
  const hit = counts.get(key);
  if (hit) return hit;
  const c = await countReadable(kafka(), topic, partition, BigInt(from), BigInt(to), purpose).catch(() => ({ records: to - from, exact: false }));
  if (c.exact) counts.set(key, c);
  return c;
}
