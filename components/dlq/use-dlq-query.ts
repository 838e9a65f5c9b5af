"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { staleTimes } from "@/components/providers";
import { getJson, postJson } from "@/components/ui/fetch-json";
import type { Unavailable } from "@/components/search/use-knn-query";
import type { DlqItem } from "@/lib/dlq/item";
import type { DlqPartial } from "@/lib/dlq/partial";

export type DlqStageFilter = "" | "parse" | "embed" | "index";
export type DlqSource = "kafka" | "reddb";

/** What the page reads: the newest `limit` entries of one stage (or all), from Kafka's DLQs or RedDB's stream. */
export interface DlqFilter {
  limit: number;
  stage: DlqStageFilter;
  source: DlqSource;
}

export interface DlqAnswer {
  items: DlqItem[];
  count: number;
  complete: boolean;
  /** Why the answer holds only part of what was asked (RedDB's per-read cap, the read deadline), or null. */
  partial: DlqPartial | null;
  /** What was read, e.g. `kafka:agent.results.dlq,embeddings_dlq`. */
  source: string;
  /** Sources this console can read (`reddb` only when REDDB_URL is set). */
  sources: DlqSource[];
  timestamp: number;
}
export interface RedriveAnswer {
  redriven: { id: string; topic: string; how: "original" | "rebuilt" }[];
  skipped: { id: string; reason: string; detail?: string }[];
  /** Set when the server's read of the DLQ was cut short: `all` then covered only what was read. */
  partial: DlqPartial | null;
}

/** The query string of a filter: shared by the list, the download links and redrive. */
export function dlqParams({ limit, stage, source }: DlqFilter): string {
  const p = new URLSearchParams({ limit: String(limit), source });
  if (stage) p.set("stage", stage);
  return p.toString();
}

export const dlqKeys = {
  all: ["dlq"] as const,
  list: (f: DlqFilter) => [...dlqKeys.all, "list", f.limit, f.stage, f.source] as const,
};

export function useDlqQuery(f: DlqFilter) {
  return useQuery({ queryKey: dlqKeys.list(f), queryFn: ({ signal }) => getJson<DlqAnswer | Unavailable>(`/api/embed-worker/dlq?${dlqParams(f)}&unavailable=200`, signal), staleTime: staleTimes.default });
}

export function useRedriveDlqMutation(f: DlqFilter) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (ids: string[] | "all") => postJson<RedriveAnswer>("/api/embed-worker/dlq/redrive", { ids, limit: f.limit, source: f.source, ...(f.stage ? { stage: f.stage } : {}) }),
    onSuccess: () => client.invalidateQueries({ queryKey: dlqKeys.all }),
  });
}
