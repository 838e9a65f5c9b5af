/**
 * Chart points cut to the visible window and to at most `maxPoints`, by time
 * bucket: the window is split into `maxPoints` equal slices and each slice
 * with data becomes one point at the mean time of its samples. Each series
 * says how a bucket is summarised: `mean` (default: rates, lag, recall — the
 * line keeps its level) or `max` (latencies: a spike stays visible instead of
 * being averaged away). Nulls (no value at that poll) are skipped; a bucket
 * with no value for a series gives null.
 */
export type ChartPoint = { t: number } & Record<string, number | null>;
export type Aggregate = "mean" | "max";

/** About one point per 1–2 px of a half-page chart: more is invisible, and recharts slows down past a few thousand. */
export const MAX_CHART_POINTS = 600;

export function downsample(
  points: readonly ChartPoint[],
  from: number,
  to: number,
  maxPoints = MAX_CHART_POINTS,
  aggregate: Readonly<Record<string, Aggregate>> = {},
): ChartPoint[] {
  const inWindow = points.filter((p) => p.t >= from && p.t <= to);
  if (inWindow.length <= maxPoints) return inWindow;
  const width = (to - from) / maxPoints;
  const buckets = new Map<number, ChartPoint[]>();
  for (const p of inWindow) {
    const i = Math.min(maxPoints - 1, Math.floor((p.t - from) / width));
    const bucket = buckets.get(i);
    if (bucket) bucket.push(p);
    else buckets.set(i, [p]);
  }
  const out: ChartPoint[] = [];
  for (const i of [...buckets.keys()].sort((a, b) => a - b)) {
    const bucket = buckets.get(i)!;
    const point: ChartPoint = { t: Math.round(bucket.reduce((s, p) => s + p.t, 0) / bucket.length) };
    const keys = new Set(bucket.flatMap((p) => Object.keys(p)).filter((k) => k !== "t"));
    for (const k of keys) {
      const values = bucket.map((p) => p[k]).filter((v): v is number => typeof v === "number" && Number.isFinite(v));
      point[k] = values.length === 0 ? null : aggregate[k] === "max" ? Math.max(...values) : values.reduce((s, v) => s + v, 0) / values.length;
    }
    out.push(point);
  }
  return out;
}
