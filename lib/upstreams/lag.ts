import "server-only";
import { consumeRate, drainSec, readStart } from "@/lib/kafka/lag-figures";
import { withAdmin } from "./kafka";
import { nowSec } from "./rate";
import { countRecords } from "./record-counts";

export interface PartitionLag {
  partition: number;
  /** The group's committed offset (null: nothing committed; it reads from the log start). */
  committed: number | null;
  /** The partition's end offset (high watermark). */
  end: number;
  /** Records a read_committed consumer would still get from `committed` (transaction markers and aborted data count 0). */
  lag: number;
  /** False when `lag` is the offset gap instead of a count (gap over 1,000 offsets, or the read failed). */
  exact: boolean;
}
export interface GroupLag {
  group: string;
  topics: { topic: string; partitions: PartitionLag[]; lag: number }[];
  /** Records still to consume, all partitions. */
  lag: number;
  /** Nothing to consume. */
  caught_up: boolean;
  /** Records consumed per second since the previous poll (null on the first). */
  consume_rate: number | null;
  /** lag / consume_rate in seconds; 0 when caught up, null when records wait and nothing is being consumed. */
  drain_sec: number | null;
}
export type LagEvent = { groups: GroupLag[]; total_lag: number; timestamp: number } | { error: "unreachable"; message: string; timestamp: number };

/**
 * Per group and partition, the records between the committed offset and the
 * end that a read_committed consumer would still get (lib/kafka/readable-count.ts),
 * and the rate at which the group consumed records since the previous poll.
 */
export function lagPoll() {
  const prev = new Map<string, { from: Map<string, number>; at: number }>();
  return async (): Promise<LagEvent> => {
    try {
      const groups = await withAdmin(async (admin) => {
        const listed = (await admin.listGroups()).groups.filter((g) => g.protocolType === "consumer" || g.protocolType === "");
        const ends = new Map<string, Map<number, { low: number; high: number }>>();
        const endsOf = async (topic: string) => {
          if (!ends.has(topic)) ends.set(topic, new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }])));
          return ends.get(topic)!;
        };
        const out: GroupLag[] = [];
        for (const { groupId } of listed.sort((a, b) => a.groupId.localeCompare(b.groupId))) {
          const committedTopics = await admin.fetchOffsets({ groupId });
          const before = prev.get(groupId);
          const from = new Map<string, number>();
          let consumed: number | null = before ? 0 : null;
          const topics = [];
          for (const t of committedTopics) {
            const e = await endsOf(t.topic).catch(() => new Map<number, { low: number; high: number }>());
            const partitions: PartitionLag[] = [];
            for (const p of t.partitions) {
              const committed = Number(p.offset) >= 0 ? Number(p.offset) : null;
              const { low, high } = e.get(p.partition) ?? { low: 0, high: 0 };
              const start = readStart(committed, low, high);
              const c = await countRecords(t.topic, p.partition, start, high, "poll");
              partitions.push({ partition: p.partition, committed, end: high, lag: c.records, exact: c.exact });
              const key = `${t.topic}/${p.partition}`;
              from.set(key, start);
              // Consumed since the last poll: the records between the previous read start and this one.
              const was = before?.from.get(key);
              if (consumed !== null && was !== undefined && start > was) consumed += (await countRecords(t.topic, p.partition, Math.max(was, low), start, "poll")).records;
            }
            topics.push({ topic: t.topic, partitions, lag: partitions.reduce((n, p) => n + p.lag, 0) });
          }
          if (topics.length === 0) continue;
          const lag = topics.reduce((n, t) => n + t.lag, 0);
          const now = Date.now();
          prev.set(groupId, { from, at: now });
          const consume_rate = before ? consumeRate(consumed, now - before.at) : null;
          out.push({ group: groupId, topics, lag, caught_up: lag === 0, consume_rate, drain_sec: drainSec(lag, consume_rate) });
        }
        return out;
      });
      return { groups, total_lag: groups.reduce((n, g) => n + g.lag, 0), timestamp: nowSec() };
    } catch (err) {
      return { error: "unreachable", message: `Kafka unreachable (${(err as Error).message})`, timestamp: nowSec() };
    }
  };
}
