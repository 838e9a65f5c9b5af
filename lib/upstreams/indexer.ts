import "server-only";
import { redactUrl } from "@/lib/config/redact";
import { upstreamJson } from "./http";
import { mergeIndexerHealth, mergeIndexerMetrics } from "./indexer-figures";
import { indexerSet } from "./indexers";
import { nowSec } from "./rate";
import { stageFigures, type StageFigures } from "./stage";

/** One indexer instance in the stream's event: who, where, what it owns and holds, or why it did not answer. */
export interface IndexerInstanceFigures {
  instance: string;
  url: string;
  partitions: number[];
  ok: boolean;
  total_ids: number | null;
  recall_at_10: number | null;
  stage: StageFigures | null;
  error?: string;
}

/**
 * The indexer stream's event. `metrics`, `health` and `stage` are the whole
 * group's (lib/upstreams/indexer-figures.ts: counters summed, recall weighted
 * by documents held), in the shape one indexer's have, so the Overview and
 * Monitoring read them as before; `instances` lists each one (absent from
 * events recorded in the console's history before there was a group).
 */
export type IndexerEvent =
  | { metrics: Record<string, unknown>; health: Record<string, unknown> | null; stage: StageFigures | null; instances?: IndexerInstanceFigures[]; timestamp: number }
  | { error: "unreachable"; message: string; instances?: IndexerInstanceFigures[]; timestamp: number };

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** Every indexer of the group polled at once (GET /metrics and /health); the event says how many answered. */
export function indexerPoll() {
  return async (signal: AbortSignal): Promise<IndexerEvent> => {
    const set = await indexerSet();
    const polled = await Promise.all(
      set.instances.map(async (t) => {
        const [m, h] = await Promise.allSettled([
          upstreamJson<Record<string, unknown>>(`${t.url}/metrics`, { signal }),
          upstreamJson<Record<string, unknown>>(`${t.url}/health`, { signal }),
        ]);
        return { t, metrics: m.status === "fulfilled" ? (m.value.body ?? {}) : null, health: h.status === "fulfilled" ? h.value.body : null, error: m.status === "rejected" ? (m.reason as Error).message : undefined };
      }),
    );
    const instances: IndexerInstanceFigures[] = polled.map(({ t, metrics, error }) => {
      const owned = Array.isArray(metrics?.partitions) ? (metrics.partitions as { partition?: unknown }[]).map((p) => p.partition).filter((p): p is number => typeof p === "number") : t.partitions;
      return {
        instance: redactUrl(t.instance),
        url: redactUrl(t.url),
        partitions: [...owned].sort((a, b) => a - b),
        ok: metrics !== null,
        total_ids: num(metrics?.total_ids),
        recall_at_10: num(metrics?.recall_at_10),
        stage: metrics ? stageFigures(metrics) : null,
        ...(error !== undefined ? { error } : {}),
      };
    });
    const answered = polled.filter((p) => p.metrics !== null);
    if (answered.length === 0) {
      const message = polled.length === 1 ? (polled[0]!.error ?? "no answer") : `no indexer answered (${polled.map((p) => `${p.t.instance}: ${p.error ?? "no answer"}`).join("; ")})`;
      return { error: "unreachable", message, instances, timestamp: nowSec() };
    }
    const metrics = mergeIndexerMetrics(answered.map((p) => p.metrics!));
    const health = mergeIndexerHealth(polled.map((p) => ({ instance: p.t.instance, body: p.health })));
    return { metrics, health, stage: stageFigures(metrics), instances, timestamp: nowSec() };
  };
}
