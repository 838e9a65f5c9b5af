"use client";

import { useMutation } from "@tanstack/react-query";
import { postJson } from "@/components/ui/fetch-json";

export type IngestBody = { texts: string[] } | { jsonl: string };

export function useIngestMutation() {
  return useMutation({ mutationKey: ["ingest"], mutationFn: (body: IngestBody) => postJson<{ sent: number; topic: string }>("/api/ingest", body) });
}
