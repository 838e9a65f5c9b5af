/**
 * Numbers carry their unit and are never cut: compact figures (`65.4k`,
 * `3.1 MB`) with the exact value in a tooltip, and a Stat that wraps instead
 * of ending in an ellipsis ("206 rows · 65…" was the bug).
 */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { formatBytes, formatCompact, formatCount, formatLatency, formatLatencyTick } from "@/components/ui/format";
import { Stat } from "@/components/ui/stat";
import { StatusBadge } from "@/components/ui/status-badge";

describe("formatCompact", () => {
  it.each<[number | null | undefined, string]>([
    [0, "0"],
    [206, "206"],
    [999, "999"],
    [1000, "1k"],
    [1234, "1.23k"],
    [65_432, "65.4k"],
    [999_949, "1M"],
    [3_140_000, "3.14M"],
    [2e9, "2G"],
    [-1500, "-1.5k"],
    [12.345, "12.3"],
    [null, "—"],
    [Number.NaN, "—"],
  ])("%s → %s", (n, out) => {
    expect(formatCompact(n)).toBe(out);
  });
});

describe("units", () => {
  it.each<[string, string, string]>([
    ["bytes", formatBytes(512), "512 B"],
    ["kilobytes", formatBytes(66_867), "65.3 KB"],
    ["megabytes", formatBytes(3.5 * 1024 * 1024), "3.5 MB"],
    ["sub-10 ms latency", formatLatency(2.46), "2.5 ms"],
    ["milliseconds", formatLatency(480), "480 ms"],
    ["seconds", formatLatency(1_250), "1.25 s"],
    ["exact counts", formatCount(1_234_567), "1,234,567"],
    ["sub-millisecond axis tick", formatLatencyTick(0.075), "75 µs"],
    ["zero axis tick", formatLatencyTick(0), "0 ms"],
    ["second axis tick", formatLatencyTick(1_200), "1.2 s"],
  ])("%s: %s", (_, got, want) => {
    expect(got).toBe(want);
  });
});

describe("Stat", () => {
  it("never clips its figure and gives the full value as a tooltip", () => {
    const html = renderToStaticMarkup(createElement(Stat, { label: "embeddings", value: "65.4k rows · 3.1 MB", title: "65,432 rows · 3,250,000 bytes", "data-testid": "s" }));
    const dd = /<dd[^>]*>/.exec(html)![0];
    expect(dd).not.toMatch(/truncate|text-ellipsis|overflow-hidden/);
    expect(dd).toContain('title="65,432 rows · 3,250,000 bytes"');
    expect(html).toContain("65.4k rows · 3.1 MB");
  });

  it("a text figure is its own tooltip", () => {
    expect(renderToStaticMarkup(createElement(Stat, { label: "lag", value: "1,234,567" }))).toContain('title="1,234,567"');
  });
});

it("a component not in use is a grey badge with its why as tooltip, never red", () => {
  const html = renderToStaticMarkup(createElement(StatusBadge, { tone: "off", label: "not in use", title: "the stack runs the TypeScript parse worker" }));
  expect(html).toContain('data-tone="off"');
  expect(html).not.toContain("down");
  expect(html).toContain('title="the stack runs the TypeScript parse worker"');
});
