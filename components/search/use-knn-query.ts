"use client";

import { useQuery } from "@tanstack/react-query";
import type { KnnAnswer, KnnQuery } from "@/app/api/knn/query/schema";
import { staleTimes } from "@/components/providers";
import { getJson, postJson } from "@/components/ui/fetch-json";
import type { ShardsAnswer } from "@/app/api/knn/shards/route";

/** What a GET answers with `?unavailable=200` when its upstream is absent. */
export interface Unavailable {
  unavailable: { code: string; message: string };
}

export type KnnRequest = Partial<KnnQuery> & { k: number };

export const knnKeys = {
  all: ["knn"] as const,
  query: (q: KnnRequest) => [...knnKeys.all, "query", q] as const,
  shards: () => [...knnKeys.all, "shards"] as const,
};

/** kNN search; runs when a query is given (the form's submit), cached per exact query. */
export function useKnnQuery(q: KnnRequest | null) {
  return useQuery({
    queryKey: knnKeys.query(q ?? { k: 0 }),
    queryFn: ({ signal }) => postJson<KnnAnswer>("/api/knn/query", q, signal),
    enabled: q !== null,
    staleTime: staleTimes.default,
  });
}

export function useShardsQuery() {
  return useQuery({ queryKey: knnKeys.shards(), queryFn: ({ signal }) => getJson<ShardsAnswer | Unavailable>("/api/knn/shards?unavailable=200", signal), staleTime: staleTimes.default, refetchInterval: 5_000 });
}
