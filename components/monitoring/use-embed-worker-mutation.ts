"use client";

import { useMutation } from "@tanstack/react-query";
import { postJson } from "@/components/ui/fetch-json";

export const embedWorkerKeys = { all: ["embed-worker"] as const };

/** POST /api/embed-worker/pause|resume; the stream shows the new state on its next poll. */
export function useControlEmbedWorkerMutation() {
  return useMutation({
    mutationKey: [...embedWorkerKeys.all, "control"],
    mutationFn: (action: "pause" | "resume") => postJson<{ ok: boolean; paused: boolean }>(`/api/embed-worker/${action}`, {}),
  });
}
