import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { upstreamJson, type UpstreamRequest } from "./http";
import { nowSec } from "./rate";
import { stageFigures, type StageFigures } from "./stage";

export type IndexerEvent =
  | { metrics: Record<string, unknown>; health: Record<string, unknown> | null; stage: StageFigures | null; timestamp: number }
  | { error: "unreachable"; message: string; timestamp: number };

export function indexerPoll() {
  return async (signal: AbortSignal): Promise<IndexerEvent> => {
    const base = consoleConfig().indexerUrl;
    try {
      const [m, h] = await Promise.all([
        upstreamJson<Record<string, unknown>>(`${base}/metrics`, { signal }),
        upstreamJson<Record<string, unknown>>(`${base}/health`, { signal }).catch(() => null),
      ]);
      return { metrics: m.body ?? {}, health: h?.body ?? null, stage: stageFigures(m.body), timestamp: nowSec() };
    } catch (err) {
      return { error: "unreachable", message: (err as Error).message, timestamp: nowSec() };
    }
  };
}

/** Call the indexer's API (the kNN proxy routes). Errors surface as UpstreamError with the indexer's body. */
export function indexerCall<T>(path: string, req: UpstreamRequest = {}) {
  return upstreamJson<T>(`${consoleConfig().indexerUrl}${path}`, req);
}
