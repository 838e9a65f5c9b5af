"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useMemo, useSyncExternalStore } from "react";
import { getJson } from "@/components/ui/fetch-json";
import { WINDOW_MS, type ChartWindow } from "./chart-window";
import { mergeHistory, type HistoryAnswer, type HistoryEvent, type TimedEvent } from "./history";
import { useStream, type StreamFeed, type StreamName } from "./use-stream";

/**
 * The history is fetched again this often, so the live feed (FEED_CAP events,
 * 20 min at 3 s) always reaches back past the newest recorded event: no gap
 * between the two however long the tab stays open. Also its stale time.
 */
export const HISTORY_REFRESH_MS = 5 * 60_000;
/** The window's right edge moves this often (the fastest stream polls every 3 s). */
const CLOCK_MS = 3_000;

/**
 * One ticking clock for every chart of the page. The server and the hydrating
 * browser both read 0 (so the markup matches); the browser's time follows
 * right after hydration.
 */
const clock = {
  now: 0,
  listeners: new Set<() => void>(),
  timer: undefined as ReturnType<typeof setInterval> | undefined,
  subscribe(listener: () => void) {
    clock.listeners.add(listener);
    clock.timer ??= setInterval(() => {
      clock.now = Date.now();
      for (const l of clock.listeners) l();
    }, CLOCK_MS);
    return () => {
      clock.listeners.delete(listener);
      if (clock.listeners.size === 0) {
        clearInterval(clock.timer);
        clock.timer = undefined;
        clock.now = 0;
      }
    };
  },
  read: () => (clock.now ||= Date.now()),
  onServer: () => 0,
};

export const historyKeys = {
  all: ["history"] as const,
  stream: (name: StreamName, chartWindow: ChartWindow) => [...historyKeys.all, name, chartWindow] as const,
};

interface StreamHistory {
  events: HistoryEvent<unknown>[];
  /** Browser clock − server clock when the answer arrived. */
  offsetMs: number;
}

/** GET /api/history for one stream and window; a failure (older console, 4xx) leaves the charts live-only. */
export function useHistoryQuery(name: StreamName, chartWindow: ChartWindow) {
  return useQuery({
    queryKey: historyKeys.stream(name, chartWindow),
    queryFn: async ({ signal }): Promise<StreamHistory> => {
      const body = await getJson<HistoryAnswer>(`/api/history?names=${encodeURIComponent(name)}&window=${chartWindow}`, signal);
      return { events: body.events[name] ?? [], offsetMs: Date.now() - body.now };
    },
    staleTime: HISTORY_REFRESH_MS,
    refetchInterval: HISTORY_REFRESH_MS,
    // Up to 24 h of events: the interval keeps it fresh, a tab switch need not download it again.
    refetchOnWindowFocus: false,
    // Another window's history still covers part of the new one: show it until the new one lands.
    placeholderData: keepPreviousData,
  });
}

export interface WindowFeed<T> extends Pick<StreamFeed<T>, "connection"> {
  /** The window's events, oldest first: recorded, then live; `t` on the browser's clock. */
  events: TimedEvent<T>[];
  latest: T | undefined;
  from: number;
  to: number;
  /** The history request failed: the charts show only what arrived live. */
  historyError: Error | null;
}

/**
 * A stream over a chosen window: its recorded past from /api/history, then its
 * live events (shared SSE connection, see use-stream.ts), without duplicates
 * where the two overlap. Charts draw `events` over [from, to].
 */
export function useWindowStream<T>(name: StreamName, chartWindow: ChartWindow): WindowFeed<T> {
  const feed = useStream<T>(name);
  const history = useHistoryQuery(name, chartWindow);
  const now = useSyncExternalStore(clock.subscribe, clock.read, clock.onServer);
  const from = now - WINDOW_MS[chartWindow];
  const data = history.data;
  const events = useMemo(() => mergeHistory(data?.events as HistoryEvent<T>[] | undefined, data?.offsetMs, feed.events, from), [data, feed.events, from]);
  return {
    events,
    // Live only: recorded events are slimmed (lib/history/slim.ts: no per-partition lag), the SSE backlog arrives on connect.
    latest: feed.latest,
    connection: feed.connection,
    from,
    to: Math.max(now, events.at(-1)?.t ?? 0),
    historyError: history.error,
  };
}
