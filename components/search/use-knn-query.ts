"use client";

import { useQuery } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import type { KnnAnswer } from "@/lib/knn/answer";
import type { KnnQuery } from "@/lib/knn/query";
import { staleTimes } from "@/components/providers";
import { getJson, postJson } from "@/components/ui/fetch-json";
import type { ShardsAnswer } from "@/lib/knn/shards";

/** What a GET answers with `?unavailable=200` when its upstream is absent. */
export interface Unavailable {
  unavailable: { code: string; message: string };
}

export type KnnRequest = Partial<KnnQuery> & { k: number };

export const knnKeys = {
  all: ["knn"] as const,
  query: (q: KnnRequest, seq: number) => [...knnKeys.all, "query", q, seq] as const,
  shards: () => [...knnKeys.all, "shards"] as const,
};

/**
 * kNN search as the user submits it. Every submit asks the indexer again, even
 * for the same query: the index grows under it, so yesterday's answer to the
 * same text is not today's. `search(q)` submits; `request` is the last submitted.
 */
export function useKnnSearchQuery(initial: KnnRequest | null = null) {
  const [submitted, setSubmitted] = useState(initial ? { request: initial, seq: 0 } : null);
  const result = useQuery({
    queryKey: knnKeys.query(submitted?.request ?? { k: 0 }, submitted?.seq ?? 0),
    queryFn: ({ signal }) => postJson<KnnAnswer>("/api/knn/query", submitted?.request, signal),
    enabled: submitted !== null,
    // A submission is answered once; the next submit is a new key.
    staleTime: Infinity,
  });
  const search = useCallback((request: KnnRequest) => setSubmitted((s) => ({ request, seq: (s?.seq ?? 0) + 1 })), []);
  return { ...result, request: submitted?.request ?? null, search };
}

/**
 * How many vectors the index holds, for an empty answer's explanation: asked
 * once when `enabled` (an answer came back empty), not polled.
 */
export function useIndexSizeQuery(enabled: boolean) {
  const result = useQuery({ queryKey: [...knnKeys.shards(), "size"], queryFn: ({ signal }) => getJson<ShardsAnswer | Unavailable>("/api/knn/shards?unavailable=200", signal), enabled, staleTime: staleTimes.default });
  const data = result.data;
  return data && "total_ids" in data ? data.total_ids : null;
}

export function useShardsQuery() {
  return useQuery({ queryKey: knnKeys.shards(), queryFn: ({ signal }) => getJson<ShardsAnswer | Unavailable>("/api/knn/shards?unavailable=200", signal), staleTime: staleTimes.default, refetchInterval: 5_000 });
}
