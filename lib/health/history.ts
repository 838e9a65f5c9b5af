import type { HealthResponse } from "./schema";

/** Samples kept per component: 60 polls at 3 s is the last three minutes. */
export const HEALTH_HISTORY_CAP = 60;

export interface LatencySample {
  /** Epoch milliseconds of the check. */
  t: number;
  /** Probe wall time; failures keep their latency so timeouts are visible. */
  latencyMs: number | null;
  ok: boolean;
}

export type HealthHistory = Readonly<Record<string, readonly LatencySample[]>>;

export const emptyHealthHistory: HealthHistory = {};

/**
 * Append one health response to the per-component history. Pure: returns a new
 * object; keeps at most `cap` samples per component (oldest dropped); ignores a
 * response not newer than the last sample (a refetch that returned cached data)
 * and components not in use (never probed).
 */
export function appendHealthSample(history: HealthHistory, response: HealthResponse, cap = HEALTH_HISTORY_CAP): HealthHistory {
  const t = Date.parse(response.timestamp);
  if (Number.isNaN(t) || cap < 1) return history;
  const next: Record<string, readonly LatencySample[]> = { ...history };
  let changed = false;
  for (const c of response.components) {
    // Nothing is probed for a component not in use: no sample, no chart.
    if (c.state === "not_in_use") continue;
    const prev = history[c.name] ?? [];
    const last = prev[prev.length - 1];
    if (last && last.t >= t) continue;
    const appended = [...prev, { t, latencyMs: c.latencyMs, ok: c.ok }];
    next[c.name] = appended.length > cap ? appended.slice(appended.length - cap) : appended;
    changed = true;
  }
  return changed ? next : history;
}
