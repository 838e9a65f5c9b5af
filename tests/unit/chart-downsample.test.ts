import { describe, expect, it } from "vitest";
import { downsample, MAX_CHART_POINTS, type ChartPoint } from "@/components/charts/downsample";

const S = 1000;
const HOUR = 3_600_000;
const to = Date.UTC(2026, 11, 2, 10, 0, 0);

/** A stream polled every `everyMs` over [from, to], its value from `f(t)`. */
function series(from: number, everyMs: number, f: (t: number) => Record<string, number | null>): ChartPoint[] {
  const out: ChartPoint[] = [];
  for (let t = from; t <= to; t += everyMs) out.push({ t, ...f(t) });
  return out;
}

describe("chart downsampling", () => {
  it.each([
    { window: "15m", span: 15 * 60 * S },
    { window: "1h", span: HOUR },
    { window: "6h", span: 6 * HOUR },
    { window: "24h", span: 24 * HOUR },
  ])("$window of 3 s polls becomes at most 600 points, oldest first, inside the window", ({ span }) => {
    const from = to - span;
    const out = downsample(series(from - HOUR, 3 * S, () => ({ v: 1 })), from, to);
    expect(out.length).toBeLessThanOrEqual(MAX_CHART_POINTS);
    expect(out.length).toBeGreaterThan(Math.min(MAX_CHART_POINTS, span / (3 * S)) * 0.9);
    expect(out.every((p, i) => p.t >= from && p.t <= to && (i === 0 || p.t > out[i - 1]!.t))).toBe(true);
  });

  it("keeps a window that fits as it is, dropping only what lies outside", () => {
    const from = to - 15 * 60 * S;
    const points = series(from - 60 * S, 3 * S, (t) => ({ v: t }));
    const out = downsample(points, from, to);
    expect(out).toEqual(points.filter((p) => p.t >= from));
  });

  it("keeps the shape: a step stays a step, a mean stays the level", () => {
    const from = to - 24 * HOUR;
    const mid = from + 12 * HOUR;
    const out = downsample(series(from, 3 * S, (t) => ({ rate: t < mid ? 10 : 40 })), from, to);
    expect(out.filter((p) => p.t < mid - HOUR).every((p) => p.rate === 10)).toBe(true);
    expect(out.filter((p) => p.t > mid + HOUR).every((p) => p.rate === 40)).toBe(true);
  });

  it("a latency spike survives with max, and is averaged down with mean", () => {
    const from = to - 24 * HOUR;
    const spikeAt = from + 5 * HOUR;
    const points = series(from, 3 * S, (t) => ({ rtt: t === spikeAt ? 900 : 3, rate: t === spikeAt ? 900 : 3 }));
    const out = downsample(points, from, to, MAX_CHART_POINTS, { rtt: "max" });
    expect(Math.max(...out.map((p) => p.rtt!))).toBe(900);
    const rate = Math.max(...out.map((p) => p.rate!));
    expect(rate).toBeGreaterThan(3);
    expect(rate).toBeLessThan(900 / 10);
  });

  it("a bucket with no value for a series gives null; values that are there are averaged without the nulls", () => {
    const from = to - 24 * HOUR;
    const points = series(from, 3 * S, (t) => ({ a: t < from + HOUR ? null : 2, b: t % (6 * S) === 0 ? 4 : null }));
    const out = downsample(points, from, to);
    expect(out[0]!.a).toBeNull();
    expect(out.at(-1)!.a).toBe(2);
    expect(out.every((p) => p.b === 4)).toBe(true);
  });

  it("an empty start stays empty: no point before the first poll", () => {
    const from = to - 24 * HOUR;
    const firstPoll = to - HOUR;
    const out = downsample(series(firstPoll, 3 * S, () => ({ v: 1 })), from, to);
    expect(out[0]!.t).toBeGreaterThanOrEqual(firstPoll);
  });
});
