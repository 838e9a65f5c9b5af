"use client";

import { useEffect, useState } from "react";
import { appendEvents, emptyFeed, type FeedEvent, type FeedState } from "./feed-reducer";
import { streamHub } from "./stream-hub";

/** Messages are folded into state this often: one render per burst, still live to the eye. */
export const FLUSH_MS = 200;

export type StreamName = "infermesh" | "vectorizer" | "embed-worker" | "spark" | "indexer" | "lag" | "dlq";

export interface StreamFeed<T> extends FeedState<T> {
  latest: T | undefined;
  connection: "connecting" | "open" | "reconnecting";
}

/**
 * Watch one stream. Every component of a page shares one connection through
 * the stream hub; the server replays its ring buffer, so charts start full, and
 * the hub resumes after a drop where it stopped. Unsubscribed on unmount.
 */
export function useStream<T>(name: StreamName): StreamFeed<T> {
  const [feed, setFeed] = useState<FeedState<T>>(emptyFeed);
  const [connection, setConnection] = useState<StreamFeed<T>["connection"]>("connecting");

  useEffect(() => {
    let buffer: FeedEvent<T>[] = [];
    const unsubscribe = streamHub.subscribe(name, {
      onEvent: (e) => {
        try {
          buffer.push({ id: e.id, t: Date.now(), data: JSON.parse(e.data) as T });
        } catch {
          // A malformed event is skipped; the next poll brings a fresh one.
        }
      },
      onConnection: setConnection,
    });
    const timer = setInterval(() => {
      if (buffer.length === 0) return;
      const batch = buffer;
      buffer = [];
      setFeed((s) => appendEvents(s, batch));
    }, FLUSH_MS);
    return () => {
      clearInterval(timer);
      unsubscribe();
    };
  }, [name]);

  return { ...feed, latest: feed.events.at(-1)?.data, connection };
}
