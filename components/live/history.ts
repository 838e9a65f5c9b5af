/**
 * The past of a stream, from `GET /api/history`, joined to its live events.
 * Pure: the hook (use-window-stream.ts) fetches and calls these.
 */
import type { FeedEvent } from "./feed-reducer";

/** One recorded event: `t` is the server's clock at the poll, `data` the event as it went on the stream. */
export interface HistoryEvent<T> {
  t: number;
  data: T;
}

/** The API's answer (lib/history; see the README's console section). */
export interface HistoryAnswer {
  window: string;
  now: number;
  events: Record<string, HistoryEvent<unknown>[]>;
}

/** An event placed on the browser's time axis. */
export interface TimedEvent<T> {
  t: number;
  data: T;
}

/**
 * Live events within this much of the newest recorded one are that same poll
 * again (the SSE ring replays up to 300 on connect, and the hub's own cache
 * more). The recorder stamps an event when its poll ends, as the poll stamps
 * `timestamp`: the two differ by milliseconds, and polls are ≥ 3 s apart.
 */
export const SAME_POLL_MS = 250;

/** The server's poll time of a live event: its `timestamp` (epoch seconds, every stream sends one), else its receipt time moved to the server's clock. */
function serverTime(e: FeedEvent<unknown>, offsetMs: number): number {
  const ts = (e.data as { timestamp?: unknown } | null)?.timestamp;
  return typeof ts === "number" && Number.isFinite(ts) ? ts * 1000 : e.t - offsetMs;
}

/**
 * Browser clock − server clock, from live events alone (before the history
 * arrives, or when it cannot): the smallest gap between receipt and poll time,
 * i.e. the event that came straight from a poll rather than from a replay.
 */
export function liveClockOffset(live: readonly FeedEvent<unknown>[]): number {
  let best = Infinity;
  for (const e of live) {
    const ts = (e.data as { timestamp?: unknown } | null)?.timestamp;
    if (typeof ts === "number" && Number.isFinite(ts)) best = Math.min(best, e.t - ts * 1000);
  }
  return Number.isFinite(best) ? best : 0;
}

/**
 * The window [from, now] of one stream: recorded events, then the live events
 * the history does not hold yet (newer than its newest `t` by more than
 * SAME_POLL_MS), so an event replayed on connect is not drawn twice. Times are
 * moved to the browser's clock by `offsetMs` (browser clock − server clock,
 * measured when the history arrived, else liveClockOffset): a live event sits at its server poll
 * time too, so a backlog replayed in one burst is spread as it happened, not
 * piled up at the moment it arrived.
 */
export function mergeHistory<T>(history: readonly HistoryEvent<T>[] | undefined, offset: number | undefined, live: readonly FeedEvent<T>[], from: number): TimedEvent<T>[] {
  const offsetMs = offset ?? liveClockOffset(live);
  const past = history ?? [];
  const newest = past.length ? past[past.length - 1]!.t : -Infinity;
  const out: TimedEvent<T>[] = [];
  for (const e of past) if (e.t + offsetMs >= from) out.push({ t: e.t + offsetMs, data: e.data });
  for (const e of live) {
    const server = serverTime(e, offsetMs);
    if (server <= newest + SAME_POLL_MS) continue;
    const t = server + offsetMs;
    if (t >= from && (out.length === 0 || t > out[out.length - 1]!.t)) out.push({ t, data: e.data });
  }
  return out;
}
