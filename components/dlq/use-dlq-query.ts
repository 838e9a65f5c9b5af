"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { staleTimes } from "@/components/providers";
import { getJson, postJson } from "@/components/ui/fetch-json";
import type { Unavailable } from "@/components/search/use-knn-query";
import type { DlqItem } from "@/lib/dlq/item";

export interface DlqAnswer {
  items: DlqItem[];
  count: number;
  complete: boolean;
  timestamp: number;
}
export interface RedriveAnswer {
  redriven: { id: string; topic: string }[];
  skipped: { id: string; reason: string }[];
}

export const dlqKeys = {
  all: ["dlq"] as const,
  list: (limit: number) => [...dlqKeys.all, "list", limit] as const,
};

export function useDlqQuery(limit: number) {
  return useQuery({ queryKey: dlqKeys.list(limit), queryFn: ({ signal }) => getJson<DlqAnswer | Unavailable>(`/api/embed-worker/dlq?limit=${limit}&unavailable=200`, signal), staleTime: staleTimes.default });
}

export function useRedriveDlqMutation(limit: number) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (ids: string[] | "all") => postJson<RedriveAnswer>("/api/embed-worker/dlq/redrive", { ids, limit }),
    onSuccess: () => client.invalidateQueries({ queryKey: dlqKeys.all }),
  });
}
