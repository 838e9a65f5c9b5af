import type { FeedEvent } from "@/components/live/feed-reducer";

/** Points shown by the rolling charts: at least 60, as the issue asks; 120 = 6 min at 3 s. */
export const CHART_POINTS = 120;

/** Chart points from a feed: `t` plus the picked numeric fields of each event (null when absent). */
export function toPoints<T>(events: readonly FeedEvent<T>[], pick: (d: T) => Record<string, number | null | undefined>) {
  return events.slice(-CHART_POINTS).map((e) => {
    const values = pick(e.data);
    const point: { t: number } & Record<string, number | null> = { t: e.t };
    for (const [k, v] of Object.entries(values)) point[k] = typeof v === "number" && Number.isFinite(v) ? v : null;
    return point;
  });
}
