import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { redactUrl } from "@/lib/config/redact";
import { UpstreamError, upstreamJson, upstreamText } from "./http";
import { promValue } from "./prometheus";
import { makeRate, nowSec } from "./rate";

type InstanceStatus = { status: "healthy" | "unhealthy" | "unreachable"; rtt_ms: number | null; error?: string; model?: string | null };

export interface InfermeshEvent {
  /** The service as a whole: healthy when every instance is, unreachable when none answers; rtt_ms the slowest answer. */
  infermesh: InstanceStatus;
  /** Each INFERMESH_URL instance (URL redacted), in configured order. */
  instances: (InstanceStatus & { url: string })[];
  /** Summed over the instances that answered. */
  rows_est: number | null;
  rows_per_sec: number | null;
  queue_depth: number | null;
  timestamp: number;
}

/** One instance: health with its round trip, inputs and queue counted by its /metrics. */
async function pollInstance(base: string, rate: ReturnType<typeof makeRate>, signal: AbortSignal) {
  let status: InstanceStatus;
  try {
    const h = await upstreamJson<{ model?: string }>(`${base}/health`, { signal });
    status = { status: "healthy", rtt_ms: round(h.rttMs), model: h.body?.model ?? null };
  } catch (err) {
    const unreachable = err instanceof UpstreamError && err.kind === "unreachable";
    status = { status: unreachable ? "unreachable" : "unhealthy", rtt_ms: null, error: redactUrl((err as Error).message) };
  }
  let rows: number | undefined;
  let queue: number | undefined;
  if (status.status !== "unreachable") {
    const m = await upstreamText(`${base}/metrics`, { signal }).catch(() => undefined);
    rows = m && promValue(m.body, "infermesh_inputs_total");
    queue = m && promValue(m.body, "infermesh_queue_depth");
  }
  return { status, rows, queue, rowsPerSec: rate(rows) };
}

const sum = (xs: (number | null | undefined)[]): number | null => {
  const known = xs.filter((x): x is number => typeof x === "number");
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0);
};

/** A poll function for /api/infermesh/stream: every INFERMESH_URL instance, and the service as a whole. */
export function infermeshPoll() {
  const rates = new Map<string, ReturnType<typeof makeRate>>();
  return async (signal: AbortSignal): Promise<InfermeshEvent> => {
    const urls = consoleConfig().infermeshUrls;
    const polled = await Promise.all(
      urls.map((url) => {
        if (!rates.has(url)) rates.set(url, makeRate());
        return pollInstance(url, rates.get(url)!, signal);
      }),
    );
    const statuses = polled.map((p) => p.status);
    const first = statuses[0]!;
    const all = (s: InstanceStatus["status"]) => statuses.every((x) => x.status === s);
    const down = statuses.filter((x) => x.status !== "healthy");
    const infermesh: InstanceStatus =
      urls.length === 1
        ? first
        : {
            status: all("healthy") ? "healthy" : all("unreachable") ? "unreachable" : "unhealthy",
            rtt_ms: Math.max(...statuses.map((x) => x.rtt_ms ?? -1)) >= 0 ? Math.max(...statuses.map((x) => x.rtt_ms ?? -1)) : null,
            ...(down.length > 0 ? { error: `${down.length} of ${urls.length} instances ${down.length === 1 ? "is" : "are"} not healthy: ${down.map((x) => x.error).join("; ")}` } : {}),
            model: statuses.find((x) => x.model)?.model ?? null,
          };
    return {
      infermesh,
      instances: statuses.map((x, i) => ({ url: redactUrl(urls[i]!), ...x })),
      rows_est: sum(polled.map((p) => p.rows)),
      rows_per_sec: round(sum(polled.map((p) => p.rowsPerSec))),
      queue_depth: sum(polled.map((p) => p.queue)),
      timestamp: nowSec(),
    };
  };
}

export const round = (n: number | null, digits = 1): number | null => (n === null ? null : Number(n.toFixed(digits)));
