/**
 * State of one live SSE feed in the browser: the retained events, oldest first,
 * capped. Pure and synchronous: the hook buffers messages and folds them in
 * about every 200 ms, so a burst costs one render, not one per message.
 */
export interface FeedEvent<T> {
  id: number;
  /** Browser receive time, ms since the epoch. */
  t: number;
  data: T;
}

export interface FeedState<T> {
  events: FeedEvent<T>[];
  /** Highest id folded in; a replayed backlog after a reconnect is not counted twice. */
  lastId: number;
}

/** Hard cap of retained events per feed: 20 minutes at 3 s; charts show the newest 60+. */
export const FEED_CAP = 400;

export function emptyFeed<T>(): FeedState<T> {
  return { events: [], lastId: 0 };
}

/**
 * Fold a batch in. Events at or below `lastId` are dropped (duplicates from a
 * resume), unless ids restarted (a server restart numbers from 1 again): then
 * the feed starts over.
 */
export function appendEvents<T>(state: FeedState<T>, batch: readonly FeedEvent<T>[], cap = FEED_CAP): FeedState<T> {
  if (batch.length === 0) return state;
  let events = state.events;
  let lastId = state.lastId;
  const fresh: FeedEvent<T>[] = [];
  for (const e of batch) {
    if (e.id > lastId) {
      fresh.push(e);
      lastId = e.id;
    } else if (e.id === 1 && lastId > 1) {
      events = [];
      fresh.length = 0;
      fresh.push(e);
      lastId = 1;
    }
  }
  if (fresh.length === 0 && events === state.events) return state;
  const merged = events.concat(fresh);
  return { events: merged.length > cap ? merged.slice(merged.length - cap) : merged, lastId };
}
