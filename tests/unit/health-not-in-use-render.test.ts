/**
 * A component not part of the running configuration reads grey "not in use"
 * with its why, on the Health table and the Overview's card; red stays for a
 * component in use that is down (react-dom/server, as the page renders them).
 */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { HealthTable } from "@/components/health/health-table";
import { NotInUseCard } from "@/components/health/not-in-use-card";
import type { ComponentHealth } from "@/lib/health/schema";

const spark: ComponentHealth = { name: "spark", kind: "http", target: "http://localhost:4041/api/v1/applications", state: "not_in_use", ok: true, latencyMs: null, error: null, detail: "the stack runs the TypeScript parse worker (npm start without --spark)" };
const indexer: ComponentHealth = { name: "indexer", kind: "http", target: "http://127.0.0.1:9102/health", state: "down", ok: false, latencyMs: 2.1, error: "connection refused (127.0.0.1:9102)", detail: null };
const kafka: ComponentHealth = { name: "kafka", kind: "kafka", target: "127.0.0.1:9092", state: "ok", ok: true, latencyMs: 4, error: null, detail: "cluster x · 1 broker" };

/** The badge (`data-tone`, text) of a row, read from the rendered HTML. */
function badge(html: string, name: string) {
  const m = new RegExp(`data-testid="health-status-${name}"[^>]*data-tone="(\\w+)"[^>]*>(?:<span[^>]*></span>)?([^<]*)<`).exec(html);
  return m ? { tone: m[1], label: m[2] } : null;
}

describe("Health table", () => {
  const html = renderToStaticMarkup(createElement(HealthTable, { components: [kafka, spark, indexer] }));
  it.each([
    ["kafka", { tone: "ok", label: "ok" }],
    ["spark", { tone: "off", label: "not in use" }],
    ["indexer", { tone: "down", label: "down" }],
  ])("%s → %o", (name, want) => {
    expect(badge(html, name)).toEqual(want);
  });

  it("gives the why of a component not in use, and no latency", () => {
    expect(html).toMatch(/data-testid="health-why-spark"[^>]*>the stack runs the TypeScript parse worker/);
    expect(html).toMatch(/data-testid="health-latency-spark"[^>]*>—</);
  });
});

describe("Overview's not-in-use card", () => {
  it("lists what the stack does not run, grey, with why", () => {
    const html = renderToStaticMarkup(createElement(NotInUseCard, { components: [kafka, spark, indexer] }));
    expect(html).toContain('data-testid="not-in-use-spark"');
    expect(html).toContain("Spark parse job");
    expect(html).toContain('data-tone="off"');
    expect(html).not.toContain("not-in-use-indexer");
    expect(html).not.toContain('data-tone="down"');
  });

  it("renders nothing when everything is in use", () => {
    expect(renderToStaticMarkup(createElement(NotInUseCard, { components: [kafka, indexer] }))).toBe("");
  });
});
