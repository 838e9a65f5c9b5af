import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { UpstreamError, upstreamJson, upstreamText } from "./http";
import { promValue } from "./prometheus";
import { makeRate, nowSec } from "./rate";

export interface InfermeshEvent {
  infermesh: { status: "healthy" | "unhealthy" | "unreachable"; rtt_ms: number | null; error?: string; model?: string | null };
  rows_est: number | null;
  rows_per_sec: number | null;
  queue_depth: number | null;
  timestamp: number;
}

/** A poll function for /api/infermesh/stream: health with its round trip, inputs counted by /metrics. */
export function infermeshPoll() {
  const rate = makeRate();
  return async (signal: AbortSignal): Promise<InfermeshEvent> => {
    const base = consoleConfig().infermeshUrl;
    let status: InfermeshEvent["infermesh"];
    try {
      const h = await upstreamJson<{ model?: string }>(`${base}/health`, { signal });
      status = { status: "healthy", rtt_ms: round(h.rttMs), model: h.body?.model ?? null };
    } catch (err) {
      const unreachable = err instanceof UpstreamError && err.kind === "unreachable";
      status = { status: unreachable ? "unreachable" : "unhealthy", rtt_ms: null, error: (err as Error).message };
    }
    let rows: number | undefined;
    let queue: number | undefined;
    if (status.status !== "unreachable") {
      const m = await upstreamText(`${base}/metrics`, { signal }).catch(() => undefined);
      rows = m && promValue(m.body, "infermesh_inputs_total");
      queue = m && promValue(m.body, "infermesh_queue_depth");
    }
    return { infermesh: status, rows_est: rows ?? null, rows_per_sec: round(rate(rows)), queue_depth: queue ?? null, timestamp: nowSec() };
  };
}

export const round = (n: number | null, digits = 1): number | null => (n === null ? null : Number(n.toFixed(digits)));
