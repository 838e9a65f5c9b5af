"use client";

import { useEffect, useRef, useState } from "react";
import { appendEvents, emptyFeed, type FeedEvent, type FeedState } from "./feed-reducer";

/** Messages are folded into state this often: one render per burst, still live to the eye. */
export const FLUSH_MS = 200;

export type StreamName = "infermesh" | "vectorizer" | "embed-worker" | "spark" | "indexer" | "lag";

export interface StreamFeed<T> extends FeedState<T> {
  latest: T | undefined;
  connection: "connecting" | "open" | "reconnecting";
}

/**
 * Subscribe to `/api/<name>/stream`. The browser's EventSource resumes with
 * Last-Event-ID by itself after a drop; the server replays its ring buffer, so
 * charts start full. Closed on unmount.
 */
export function useStream<T>(name: StreamName): StreamFeed<T> {
  const [feed, setFeed] = useState<FeedState<T>>(emptyFeed);
  const [connection, setConnection] = useState<StreamFeed<T>["connection"]>("connecting");
  const source = useRef<EventSource | null>(null);

  useEffect(() => {
    const es = new EventSource(`/api/${name}/stream`);
    source.current = es;
    let buffer: FeedEvent<T>[] = [];
    const onMessage = (m: MessageEvent<string>) => {
      try {
        buffer.push({ id: Number(m.lastEventId), t: Date.now(), data: JSON.parse(m.data) as T });
      } catch {
        // A malformed event is skipped; the next poll brings a fresh one.
      }
    };
    es.addEventListener(name, onMessage);
    es.onopen = () => setConnection("open");
    es.onerror = () => setConnection("reconnecting");
    const timer = setInterval(() => {
      if (buffer.length === 0) return;
      const batch = buffer;
      buffer = [];
      setFeed((s) => appendEvents(s, batch));
    }, FLUSH_MS);
    return () => {
      clearInterval(timer);
      es.removeEventListener(name, onMessage);
      es.close();
      source.current = null;
    };
  }, [name]);

  return { ...feed, latest: feed.events.at(-1)?.data, connection };
}
