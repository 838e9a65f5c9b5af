import { describe, expect, it } from "vitest";
import { appendHealthSample, emptyHealthHistory, HEALTH_HISTORY_CAP, type HealthHistory } from "@/lib/health/history";
import type { ComponentHealth, HealthResponse } from "@/lib/health/schema";

const component = (name: string, ok: boolean, latencyMs: number | null): ComponentHealth => ({
  name,
  kind: name === "kafka" ? "kafka" : "process",
  target: "t",
  state: ok ? "ok" : "down",
  ok,
  latencyMs,
  error: ok ? null : "connection refused",
  detail: null,
});

const report = (t: number, ...components: ComponentHealth[]): HealthResponse => ({
  status: components.every((c) => c.ok) ? "ok" : "degraded",
  components,
  timestamp: new Date(t).toISOString(),
});

describe("appendHealthSample", () => {
  it("appends one sample per component, keeping failures with their latency", () => {
    const h = appendHealthSample(emptyHealthHistory, report(1_000, component("kafka", false, 12.5), component("console", true, 0.1)));
    expect(h).toEqual({
      kafka: [{ t: 1_000, latencyMs: 12.5, ok: false }],
      console: [{ t: 1_000, latencyMs: 0.1, ok: true }],
    });
  });

  it("never keeps more than the cap, dropping the oldest", () => {
    let h: HealthHistory = emptyHealthHistory;
    for (let i = 1; i <= HEALTH_HISTORY_CAP + 25; i++) h = appendHealthSample(h, report(i * 1_000, component("kafka", true, i)));
    expect(h.kafka).toHaveLength(HEALTH_HISTORY_CAP);
    expect(h.kafka![0]!.latencyMs).toBe(26);
    expect(h.kafka!.at(-1)!.latencyMs).toBe(HEALTH_HISTORY_CAP + 25);
  });

  it("honours a smaller cap", () => {
    let h: HealthHistory = emptyHealthHistory;
    for (let i = 1; i <= 5; i++) h = appendHealthSample(h, report(i, component("kafka", true, i)), 3);
    expect(h.kafka!.map((s) => s.latencyMs)).toEqual([3, 4, 5]);
  });

  it("ignores a report that is not newer than the last sample, returning the same object", () => {
    const h1 = appendHealthSample(emptyHealthHistory, report(5_000, component("kafka", true, 3)));
    expect(appendHealthSample(h1, report(5_000, component("kafka", true, 9)))).toBe(h1);
    expect(appendHealthSample(h1, report(4_000, component("kafka", true, 9)))).toBe(h1);
  });

  it("does not mutate its input", () => {
    const h1 = appendHealthSample(emptyHealthHistory, report(1, component("kafka", true, 1)));
    const frozen = structuredClone(h1);
    appendHealthSample(h1, report(2, component("kafka", true, 2)));
    expect(h1).toEqual(frozen);
  });

  it("starts a series for a component that appears later", () => {
    const h1 = appendHealthSample(emptyHealthHistory, report(1, component("kafka", true, 1)));
    const h2 = appendHealthSample(h1, report(2, component("kafka", true, 2), component("indexer", true, 4)));
    expect(h2.kafka).toHaveLength(2);
    expect(h2.indexer).toEqual([{ t: 2, latencyMs: 4, ok: true }]);
  });

  it("keeps no samples for a component not in use (it is never probed)", () => {
    const spark: ComponentHealth = { ...component("spark", true, null), state: "not_in_use", detail: "the stack runs the TypeScript parse worker" };
    const h = appendHealthSample(emptyHealthHistory, report(1, component("kafka", true, 1), spark));
    expect(Object.keys(h)).toEqual(["kafka"]);
  });
});
