import { describe, expect, it } from "vitest";
import { ALTERNATIVE_WHY, launcherRuns, notInUse, overallStatus, settleParseStages } from "@/lib/health/in-use";
import type { ComponentHealth, ComponentState } from "@/lib/health/schema";
import type { SupervisionReport } from "@/lib/health/supervisor-state";

const c = (name: string, state: ComponentState): ComponentHealth => ({
  name,
  kind: "http",
  target: `http://127.0.0.1/${name}`,
  state,
  ok: state !== "down",
  latencyMs: state === "not_in_use" ? null : 3,
  error: state === "down" ? "connection refused" : null,
  detail: null,
});

describe("overall status counts only components in use", () => {
  it.each<[string, ComponentState[], "ok" | "degraded"]>([
    ["all ok", ["ok", "ok"], "ok"],
    ["one not in use, the rest ok", ["ok", "not_in_use", "ok"], "ok"],
    ["everything not in use", ["not_in_use"], "ok"],
    ["one down", ["ok", "down", "not_in_use"], "degraded"],
  ])("%s → %s", (_, states, status) => {
    expect(overallStatus(states.map((s, i) => c(`c${i}`, s)))).toBe(status);
  });
});

describe("without the launcher, the answers say which parse stage runs", () => {
  it.each<[string, ComponentState, ComponentState, ComponentState, ComponentState]>([
    // parse-worker, spark in → out
    ["--profile parse-worker with Spark stopped: the worker answers, Spark does not", "ok", "down", "ok", "not_in_use"],
    ["docker-compose default: Spark answers, no parse worker runs", "down", "ok", "not_in_use", "ok"],
    ["no parse stage at all: both down, both red", "down", "down", "down", "down"],
    ["both answer: both in use", "ok", "ok", "ok", "ok"],
  ])("%s", (_, worker, spark, workerOut, sparkOut) => {
    const out = settleParseStages([c("kafka", "ok"), c("parse-worker", worker), c("spark", spark)]);
    expect(out.map((r) => [r.name, r.state])).toEqual([["kafka", "ok"], ["parse-worker", workerOut], ["spark", sparkOut]]);
    for (const r of out.filter((r) => r.state === "not_in_use")) {
      expect(r).toMatchObject({ ok: true, error: null, latencyMs: null, detail: ALTERNATIVE_WHY[r.name as "spark" | "parse-worker"] });
    }
  });

  it("leaves other components that are down alone", () => {
    expect(settleParseStages([c("embed-worker", "down"), c("parse-worker", "ok")]).map((r) => r.state)).toEqual(["down", "ok"]);
  });
});

describe("launcherRuns", () => {
  const supervised: SupervisionReport = {
    supervised: true,
    state: { launcher_pid: 1, started_ts: 0, updated_ts: 0, crash_loop: { restarts: 5, window_sec: 300 }, processes: [{ name: "parse-worker", state: "crash-loop", pid: null, restarts: 6, started_ts: null, last_exit: null, next_restart_ts: null }] },
  };
  it.each([
    ["a process the launcher runs, even crash-looping, is in use", supervised, "parse-worker", true],
    ["one it does not run is not", supervised, "spark", false],
    ["without the launcher nobody knows", { supervised: false, reason: "not supervised by npm start" } as SupervisionReport, "spark", undefined],
  ])("%s", (_, report, name, expected) => {
    expect(launcherRuns(report, name)).toBe(expected);
  });
});

it("a component not in use carries its why and no probe figures", () => {
  expect(notInUse({ name: "reddb", kind: "http", target: "REDDB_URL unset" }, "no REDDB_URL configured")).toEqual({
    name: "reddb", kind: "http", target: "REDDB_URL unset", state: "not_in_use", ok: true, latencyMs: null, error: null, detail: "no REDDB_URL configured",
  });
});
