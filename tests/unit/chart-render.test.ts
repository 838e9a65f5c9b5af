/** The window selector and the charts as the server renders them (react-dom/server), before the browser measures anything. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createElement, type ReactElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { afterEach, describe, expect, it, vi } from "vitest";
import MonitoringPage from "@/app/monitoring/page";
import { TimeSeriesChart } from "@/components/charts/time-series-chart";
import { LagView } from "@/components/lag/lag-view";
import { parseWindow } from "@/components/live/chart-window";
import { WindowSelect } from "@/components/ui/window-select";

const render = (el: ReactElement) => renderToStaticMarkup(createElement(QueryClientProvider, { client: new QueryClient() }, el));

describe("window selector", () => {
  it("offers 15 min, 1 h, 6 h and 24 h, 15 min chosen by default", () => {
    const html = render(createElement(WindowSelect));
    expect(html).toContain('data-testid="window-select"');
    expect([...html.matchAll(/<option value="([^"]+)"( selected="")?/g)].map((m) => [m[1], Boolean(m[2])])).toEqual([
      ["15m", true],
      ["1h", false],
      ["6h", false],
      ["24h", false],
    ]);
  });

  it.each([
    ["1h", "1h"],
    ["24h", "24h"],
    ["", "15m"],
    ["2h", "15m"],
    [null, "15m"],
  ])("?window=%s shows %s", (param, want) => {
    expect(parseWindow(param)).toBe(want);
  });

  it.each([
    ["Monitoring", () => createElement(MonitoringPage)],
    ["Lag", () => createElement(LagView)],
  ])("is on the %s page", (_, page) => {
    expect(render(page()).match(/data-testid="window-select"/g)).toHaveLength(1);
  });
});

describe("server markup", () => {
  afterEach(() => vi.useRealTimers());

  // The browser hydrates with the same clock the server used (0): markup that
  // depended on the time of rendering would not match, and React says so in the console.
  it.each([
    ["Monitoring", () => createElement(MonitoringPage)],
    ["Lag", () => createElement(LagView)],
  ])("of the %s page does not depend on when it is rendered", (_, page) => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.UTC(2026, 11, 2, 10, 0, 0));
    const first = render(page());
    vi.setSystemTime(Date.UTC(2026, 11, 2, 13, 7, 0));
    expect(render(page())).toBe(first);
  });
});

describe("time-series chart", () => {
  const to = Date.UTC(2026, 11, 2, 10, 0, 0);
  const from = to - 24 * 3_600_000;

  it("spans the window it is given and draws at most 600 points of a 24 h window of 3 s polls", () => {
    const points = Array.from({ length: 28_800 }, (_, i) => ({ t: from + i * 3000, v: i % 7 }));
    const html = render(createElement(TimeSeriesChart, { points, series: [{ key: "v", label: "v", color: "red" }], format: String, from, to, "data-testid": "chart-x" }));
    expect(html).toContain(`data-from="${from}"`);
    expect(html).toContain(`data-to="${to}"`);
    const drawn = Number(/data-points="(\d+)"/.exec(html)?.[1]);
    expect(drawn).toBeGreaterThan(500);
    expect(drawn).toBeLessThanOrEqual(600);
  });

  it("counts only the points inside the window", () => {
    const points = [{ t: from - 1000, v: 1 }, { t: to - 1000, v: 2 }];
    const html = render(createElement(TimeSeriesChart, { points, series: [{ key: "v", label: "v", color: "red" }], format: String, from, to }));
    expect(html).toContain('data-points="1"');
  });
});
