"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useCallback } from "react";
import { MessagesForm } from "./messages-form";
import { MessagesList } from "./messages-list";
import { MessagesError, MessagesLoading, MessagesUnavailable } from "./messages-states";
import { messagesParams, queryFromParams, type MessagesQuery } from "./topic-query";
import { useMessagesQuery, useTopicsQuery } from "./use-topics-query";

/**
 * `/topics/{name}?partition=&offset=&timestamp=&key=&limit=`: the URL is the
 * query, so a link from another stage opens a ready answer; the form pushes a
 * new URL (back returns to the previous read).
 */
export function TopicMessagesView({ name }: { name: string }) {
  const params = useSearchParams();
  const query = queryFromParams(params);
  const read = useMessagesQuery(name, query);
  const topics = useTopicsQuery();
  const topic = topics.data && "topics" in topics.data ? topics.data.topics.find((t) => t.name === name) : undefined;
  const answer = read.data && "messages" in read.data ? read.data : undefined;
  const partitions = topic?.partitions.map((p) => p.partition) ?? answer?.partitions.map((p) => p.partition) ?? [];
  const { refetch } = read;
  const current = messagesParams(query).toString();
  const go = useCallback((q: MessagesQuery) => {
    const next = messagesParams(q).toString();
    // The same read again is a refresh: the index of a topic moves on under it.
    if (next === current) void refetch();
    else window.history.pushState(null, "", `?${next}`);
  }, [current, refetch]);
  return (
    <div className="grid gap-4" data-testid="topic-messages-page">
      <div className="flex flex-wrap items-baseline gap-3">
        <h1 className="text-lg font-semibold"><Link href="/topics" className="text-muted hover:underline">Topics</Link> / <span className="font-mono" data-testid="topic-name">{name}</span></h1>
        {topic && <span className="text-xs text-muted">{topic.role} · written by {topic.writer}</span>}
        <button type="button" className="ml-auto rounded-md border border-line px-2.5 py-1 text-xs hover:bg-surface-2" onClick={() => read.refetch()} data-testid="topic-messages-refresh">{read.isFetching ? "reading…" : "refresh"}</button>
      </div>
      <MessagesForm key={params.toString()} query={query} partitions={partitions} onSubmit={go} />
      {read.isPending && <MessagesLoading />}
      {read.error && <MessagesError error={read.error} />}
      {read.data && "unavailable" in read.data && <MessagesUnavailable message={read.data.unavailable.message} />}
      {answer && <MessagesList name={name} query={query} answer={answer} onQuery={go} />}
    </div>
  );
}
