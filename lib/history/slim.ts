/**
 * What history keeps of an event: the stream's data with the parts that grow
 * with the cluster (or repeat a series of their own) emptied, since charts plot
 * one figure per event and the live stream (whose backlog a page gets on
 * connect) carries the full detail. Shapes stay the same, arrays become [] :
 * - lag: each group's `topics[].partitions` (committed/end/lag per partition; the
 *   group's and the topic's lag, caught_up, consume_rate and drain_sec stay).
 *   A lag event grows by ~63 bytes per partition per group: 3 groups × 3 partitions
 *   is ~0.6 KB of it, a cluster of 50 groups × 100 partitions ~300 KB.
 * - indexer: `metrics.recall.history` (the last hour of recall checks, ~12 KB
 *   at 120 checks, repeated in every event; `recall_at_10` stays in each).
 */
export function slimEvent(stream: string, data: string): string {
  const slim = SLIMMERS[stream];
  if (!slim) return data;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return data;
  }
  return slim(value) ? JSON.stringify(value) : data;
}

type Slimmer = (value: unknown) => boolean;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const SLIMMERS: Record<string, Slimmer> = {
  lag(value) {
    if (!isObject(value) || !Array.isArray(value.groups)) return false;
    for (const g of value.groups) {
      if (!isObject(g) || !Array.isArray(g.topics)) continue;
      for (const t of g.topics) if (isObject(t) && Array.isArray(t.partitions)) t.partitions = [];
    }
    return true;
  },
  indexer(value) {
    if (!isObject(value) || !isObject(value.metrics) || !isObject(value.metrics.recall) || !Array.isArray(value.metrics.recall.history)) return false;
    value.metrics.recall.history = [];
    return true;
  },
};
