import type { ChartPoint } from "@/components/charts/downsample";

/**
 * Chart points from a window's events: `t` plus the picked numeric fields of
 * each event (null when absent). All of the window is kept; the chart cuts it
 * to what it can draw (components/charts/downsample.ts).
 */
export function toPoints<T>(events: readonly { t: number; data: T }[], pick: (d: T) => Record<string, number | null | undefined>): ChartPoint[] {
  return events.map((e) => {
    const values = pick(e.data);
    const point: ChartPoint = { t: e.t };
    for (const [k, v] of Object.entries(values)) point[k] = typeof v === "number" && Number.isFinite(v) ? v : null;
    return point;
  });
}
