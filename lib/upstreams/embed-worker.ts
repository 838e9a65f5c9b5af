import "server-only";
import { consoleConfig } from "@/lib/config/console";
import type { UpstreamSnapshot } from "@/lib/embedding/balancer";
import { upstreamJson } from "./http";
import { round } from "./infermesh";
import { makeRate, nowSec } from "./rate";
import { stageFigures, type StageFigures } from "./stage";

/** The embed-worker's GET /metrics (seed fields; more may follow). */
export interface EmbedWorkerMetrics {
  started_ts: number;
  batches: number;
  records_in: number;
  records_out: number;
  last_flush_ts: number | null;
  last_infermesh_rtt_ms: number | null;
  total_infermesh_calls: number;
  infermesh_failures: number;
  dlq_records: number;
  paused?: boolean;
  status?: string;
  lag?: number;
  /** Each INFERMESH_URL instance as the worker's client sees it (lib/embedding/balancer.ts). */
  upstreams?: UpstreamSnapshot[];
  [key: string]: unknown;
}

export type EmbedWorkerEvent =
  | { metrics: EmbedWorkerMetrics; rates: { records_in_per_sec: number | null; records_out_per_sec: number | null; batches_per_sec: number | null }; stage: StageFigures | null; timestamp: number }
  | { error: "unreachable" | "bad_response"; message: string; timestamp: number };

export function embedWorkerPoll() {
  const rIn = makeRate();
  const rOut = makeRate();
  const rBatches = makeRate();
  return async (signal: AbortSignal): Promise<EmbedWorkerEvent> => {
    try {
      const { body } = await upstreamJson<EmbedWorkerMetrics>(`${consoleConfig().embedWorkerUrl}/metrics`, { signal });
      if (!body || typeof body.records_in !== "number") return { error: "bad_response", message: "metrics without records_in", timestamp: nowSec() };
      const rates = { records_in_per_sec: round(rIn(body.records_in)), records_out_per_sec: round(rOut(body.records_out)), batches_per_sec: round(rBatches(body.batches), 2) };
      return { metrics: body, rates, stage: stageFigures(body), timestamp: nowSec() };
    } catch (err) {
      rIn(null);
      rOut(null);
      rBatches(null);
      return { error: "unreachable", message: (err as Error).message, timestamp: nowSec() };
    }
  };
}

/** POST /pause or /resume on the embed-worker, with its control token when configured. */
export async function controlEmbedWorker(action: "pause" | "resume"): Promise<{ ok: boolean; paused: boolean }> {
  const { embedWorkerUrl, embedControlToken } = consoleConfig();
  const headers: Record<string, string> = embedControlToken ? { authorization: `Bearer ${embedControlToken}` } : {};
  const { body } = await upstreamJson<{ ok: boolean; paused: boolean }>(`${embedWorkerUrl}/${action}`, { method: "POST", headers });
  return body;
}
