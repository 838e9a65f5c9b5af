"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { fetchHealth } from "@/lib/health/client";
import { appendHealthSample, emptyHealthHistory, type HealthHistory } from "@/lib/health/history";
import type { HealthResponse } from "@/lib/health/schema";
import { staleTimes } from "@/components/providers";

/** Every 3 s, like the console's live streams: fast enough to watch a restart. */
export const HEALTH_REFETCH_MS = 3_000;

export const healthKeys = {
  all: ["health"] as const,
  report: () => [...healthKeys.all, "report"] as const,
};

export function useHealthQuery() {
  return useQuery({
    queryKey: healthKeys.report(),
    queryFn: ({ signal }) => fetchHealth(signal),
    staleTime: staleTimes.live,
    refetchInterval: HEALTH_REFETCH_MS,
    // The next poll is the retry; retrying in between would only delay the error.
    retry: false,
  });
}

/**
 * Latency history built from successive reports, kept in the page (not the
 * server). The reducer is pure and capped; a report is folded in once.
 */
export function useHealthHistory(report: HealthResponse | undefined): HealthHistory {
  const [history, setHistory] = useState<HealthHistory>(emptyHealthHistory);
  const [seen, setSeen] = useState<string | null>(null);
  if (report && report.timestamp !== seen) {
    // Adjusting state while rendering (React's pattern for derived state), not in an effect.
    setSeen(report.timestamp);
    setHistory((h) => appendHealthSample(h, report));
  }
  return history;
}
