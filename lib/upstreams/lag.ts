import "server-only";
import { CONSOLE_GROUP_PREFIX, withAdmin } from "./kafka";
import { nowSec } from "./rate";

export interface PartitionLag {
  partition: number;
  committed: number | null;
  end: number;
  lag: number;
}
export interface GroupLag {
  group: string;
  topics: { topic: string; partitions: PartitionLag[]; lag: number }[];
  lag: number;
  /** Committed records per second since the previous poll (null on the first). */
  consume_rate: number | null;
  /** lag / consume_rate; null when nothing is being consumed. */
  drain_sec: number | null;
}
export type LagEvent = { groups: GroupLag[]; total_lag: number; timestamp: number } | { error: "unreachable"; message: string; timestamp: number };

/** Group offsets against topic end offsets, per group and partition (kafkajs admin). */
export function lagPoll() {
  const prev = new Map<string, { committed: number; at: number }>();
  return async (): Promise<LagEvent> => {
    try {
      const groups = await withAdmin(async (admin) => {
        const listed = (await admin.listGroups()).groups.filter((g) => !g.groupId.startsWith(CONSOLE_GROUP_PREFIX) && (g.protocolType === "consumer" || g.protocolType === ""));
        const ends = new Map<string, Map<number, { low: number; high: number }>>();
        const endsOf = async (topic: string) => {
          if (!ends.has(topic)) ends.set(topic, new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }])));
          return ends.get(topic)!;
        };
        const out: GroupLag[] = [];
        for (const { groupId } of listed.sort((a, b) => a.groupId.localeCompare(b.groupId))) {
          const committedTopics = await admin.fetchOffsets({ groupId });
          const topics = [];
          let committedSum = 0;
          for (const t of committedTopics) {
            const e = await endsOf(t.topic).catch(() => new Map<number, { low: number; high: number }>());
            const partitions = t.partitions.map((p) => {
              const committed = Number(p.offset) >= 0 ? Number(p.offset) : null;
              const end = e.get(p.partition) ?? { low: 0, high: 0 };
              committedSum += committed ?? end.low;
              return { partition: p.partition, committed, end: end.high, lag: Math.max(0, end.high - (committed ?? end.low)) };
            });
            topics.push({ topic: t.topic, partitions, lag: partitions.reduce((n, p) => n + p.lag, 0) });
          }
          if (topics.length === 0) continue;
          const lag = topics.reduce((n, t) => n + t.lag, 0);
          const now = Date.now();
          const before = prev.get(groupId);
          prev.set(groupId, { committed: committedSum, at: now });
          const consume_rate = before && now > before.at && committedSum >= before.committed ? ((committedSum - before.committed) * 1000) / (now - before.at) : null;
          const drain_sec = consume_rate && consume_rate > 0 ? lag / consume_rate : lag === 0 ? 0 : null;
          out.push({ group: groupId, topics, lag, consume_rate: consume_rate === null ? null : Number(consume_rate.toFixed(2)), drain_sec: drain_sec === null ? null : Math.round(drain_sec) });
        }
        return out;
      });
      return { groups, total_lag: groups.reduce((n, g) => n + g.lag, 0), timestamp: nowSec() };
    } catch (err) {
      return { error: "unreachable", message: `Kafka unreachable (${(err as Error).message})`, timestamp: nowSec() };
    }
  };
}
