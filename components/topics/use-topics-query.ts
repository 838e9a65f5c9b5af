"use client";

import { useQuery } from "@tanstack/react-query";
import { staleTimes } from "@/components/providers";
import type { Unavailable } from "@/components/search/use-knn-query";
import { getJson } from "@/components/ui/fetch-json";
import type { MessagesAnswer, TopicsAnswer } from "@/lib/topics/types";
import { messagesUrl, recordQuery, type MessagesQuery, type ReadExtras } from "./topic-query";

export const topicsKeys = {
  all: ["topics"] as const,
  list: () => [...topicsKeys.all, "list"] as const,
  messages: (name: string, q: MessagesQuery) => [...topicsKeys.all, "messages", name, q] as const,
  record: (name: string, partition: number, offset: string, extras: ReadExtras) => [...topicsKeys.all, "record", name, partition, offset, Boolean(extras.vectors), Boolean(extras.full)] as const,
};

/** The pipeline's topics with their partitions, sizes and settings; `unavailable` when Kafka does not answer. */
export function useTopicsQuery() {
  return useQuery({
    queryKey: topicsKeys.list(),
    queryFn: ({ signal }) => getJson<TopicsAnswer | Unavailable>("/api/topics?unavailable=200", signal),
    staleTime: staleTimes.default,
  });
}

/** One page of a topic's records, as the URL's query asks. */
export function useMessagesQuery(name: string, q: MessagesQuery) {
  return useQuery({
    queryKey: topicsKeys.messages(name, q),
    queryFn: ({ signal }) => getJson<MessagesAnswer | Unavailable>(messagesUrl(name, q), signal),
    staleTime: staleTimes.default,
  });
}

/**
 * One record read again by its partition and offset, with its vectors or its
 * value whole: asked only once the operator wants it (`extras` has a flag).
 * A record at an offset never changes, so the answer stays fresh.
 */
export function useRecordQuery(name: string, partition: number, offset: string, extras: ReadExtras) {
  return useQuery({
    queryKey: topicsKeys.record(name, partition, offset, extras),
    queryFn: ({ signal }) => getJson<MessagesAnswer | Unavailable>(messagesUrl(name, recordQuery(partition, offset), extras), signal),
    enabled: Boolean(extras.vectors || extras.full),
    staleTime: Infinity,
  });
}
