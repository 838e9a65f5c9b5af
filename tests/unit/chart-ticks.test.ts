import { describe, expect, it } from "vitest";
import { labelWidthPx, ticksFit, timeTicks } from "@/components/charts/time-ticks";

const MIN = 60_000;
const HOUR = 60 * MIN;
const windows = { "15m": 15 * MIN, "1h": HOUR, "6h": 6 * HOUR, "24h": 24 * HOUR } as const;
// Plot widths: a phone, a half-page chart at 1024 and 1440 px, a full-width chart.
const widths = [220, 380, 520, 600, 900, 1300];
// Local wall-clock times, so the expectations hold in any time zone.
const at = (h: number, m: number, s = 17, day = 2) => new Date(2026, 11, day, h, m, s).getTime();
const ends = [at(16, 16), at(0, 7), at(10, 0, 0), at(23, 59, 59)];

const minutesOfDay = (t: number) => new Date(t).getHours() * 60 + new Date(t).getMinutes();

describe("timeTicks", () => {
  const cases = Object.entries(windows).flatMap(([name, span]) => widths.flatMap((width) => ends.map((to) => ({ name, span, width, to }))));

  it.each(cases)("$name over $width px ending $to: labels inside the axis, none closer than their widths", ({ span, width, to }) => {
    const from = to - span;
    const ticks = timeTicks(from, to, width);
    const x = (t: number) => ((t - from) / span) * width;
    for (const tick of ticks) {
      expect(tick.t).toBeGreaterThanOrEqual(from);
      expect(tick.t).toBeLessThanOrEqual(to);
      expect(x(tick.t) - labelWidthPx(tick.label) / 2).toBeGreaterThanOrEqual(-10);
      expect(x(tick.t) + labelWidthPx(tick.label) / 2).toBeLessThanOrEqual(width + 10);
    }
    for (let i = 1; i < ticks.length; i++) {
      const a = ticks[i - 1]!;
      const b = ticks[i]!;
      expect(x(b.t) - x(a.t), `${a.label} and ${b.label}`).toBeGreaterThanOrEqual((labelWidthPx(a.label) + labelWidthPx(b.label)) / 2);
    }
    expect(new Set(ticks.map((t) => t.label)).size).toBe(ticks.length);
    // Every chart at least a third of a phone wide gets a scale to read.
    if (width >= 380) expect(ticks.length).toBeGreaterThanOrEqual(2);
  });

  it.each([
    { name: "15m", span: windows["15m"], width: 520, steps: [2, 5] },
    { name: "1h", span: windows["1h"], width: 520, steps: [10, 15] },
    { name: "6h", span: windows["6h"], width: 520, steps: [60] },
    { name: "24h", span: windows["24h"], width: 520, steps: [180, 240] },
    { name: "15m", span: windows["15m"], width: 1300, steps: [1] },
    { name: "24h", span: windows["24h"], width: 1300, steps: [60, 120] },
  ])("$name over $width px: a round step of $steps min on the wall clock", ({ span, width, steps }) => {
    const to = at(16, 16);
    const ticks = timeTicks(to - span, to, width);
    const step = (ticks[1]!.t - ticks[0]!.t) / MIN;
    expect(steps).toContain(step);
    for (const t of ticks) expect(minutesOfDay(t.t) % step).toBe(0);
    // HH:MM, or the date at a midnight the window crosses.
    expect(ticks.every((t) => /^(\d\d:\d\d|\d{1,2} [A-Z][a-z]{2})$/.test(t.label))).toBe(true);
  });

  it("says the date at midnight when the window crosses it, and only then", () => {
    const crossing = timeTicks(at(10, 0, 0) - windows["24h"], at(10, 0, 0), 600).map((t) => t.label);
    expect(crossing).toContain("2 Dec");
    expect(crossing.filter((l) => !/^\d\d:\d\d$/.test(l))).toEqual(["2 Dec"]);
    const sameDay = timeTicks(at(16, 16) - windows["6h"], at(16, 16), 600).map((t) => t.label);
    expect(sameDay.every((l) => /^\d\d:\d\d$/.test(l))).toBe(true);
  });

  it("fixes the overlap seen on the Monitoring page ('16:1616:00'): two minutes of data on a 15 min axis", () => {
    const to = at(16, 16);
    const ticks = timeTicks(to - windows["15m"], to, 260);
    expect(ticksFit(ticks, to - windows["15m"], to, 260)).toBe(true);
    expect(ticks.map((t) => t.label)).not.toContain("16:16");
  });

  it("has nothing to draw for an empty window or no width", () => {
    expect(timeTicks(1000, 1000, 500)).toEqual([]);
    expect(timeTicks(0, HOUR, 0)).toEqual([]);
  });
});
