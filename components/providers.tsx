"use client";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { ApiError } from "@/lib/http/api-error";

/** How long fetched data counts as fresh, by kind of data. Use these names, not numbers. */
export const staleTimes = {
  /** Live status polled on an interval (health, worker metrics): never fresh, always refetch. */
  live: 0,
  /** Data an operator reads but that changes within seconds (DLQ, shard counts). */
  default: 5_000,
  /** Data that changes on deploys or config edits (models, configuration). */
  slow: 60_000,
} as const;

/** Most retries of a failed query; with the backoff below, a failure shows within ~3 s. */
const MAX_RETRIES = 2;

function shouldRetry(failureCount: number, error: unknown): boolean {
  // A 4xx fails the same way again: show it at once instead of retrying.
  if (error instanceof ApiError && error.isClientError) return false;
  return failureCount < MAX_RETRIES;
}

function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: staleTimes.default,
        retry: shouldRetry,
        // 1 s, then 2 s: long enough for a restarting upstream, short enough to report.
        retryDelay: (attempt) => Math.min(1_000 * 2 ** attempt, 4_000),
        // Operators leave the console open in a tab: catch up when they come back.
        refetchOnWindowFocus: true,
        // Keep unused results 5 minutes, so switching pages shows the last data at once.
        gcTime: 5 * 60_000,
      },
      // Mutations change the pipeline (pause, resume…): never repeat one implicitly.
      mutations: { retry: false },
    },
  });
}

/** One QueryClient per browser session (created once per mount, never shared across requests on the server). */
export function Providers({ children }: { children: ReactNode }) {
  const [client] = useState(makeQueryClient);
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}
