import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lastExitText, processTone } from "@/components/health/supervision";
import { readSupervision } from "@/lib/health/supervisor";
import type { SupervisedProcessState, SupervisorState } from "@/lib/health/supervisor-state";

const dir = mkdtempSync(path.join(os.tmpdir(), "supervision-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const proc = (patch: Partial<SupervisedProcessState> = {}): SupervisedProcessState => ({
  name: "embed-worker",
  state: "running",
  pid: 4242,
  restarts: 0,
  started_ts: 1,
  last_exit: null,
  next_restart_ts: null,
  ...patch,
});

const stateOf = (launcherPid: number): SupervisorState => ({
  launcher_pid: launcherPid,
  started_ts: 1,
  updated_ts: 2,
  crash_loop: { restarts: 5, window_sec: 300 },
  processes: [proc({ restarts: 1, last_exit: { code: null, signal: "SIGKILL", ts: 3, error: null } })],
});

function stateFile(name: string, content: string) {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

describe("readSupervision", () => {
  it("says the console is not supervised when npm start did not start it", async () => {
    expect(await readSupervision(undefined)).toEqual({ supervised: false, reason: "not supervised by npm start" });
  });

  it("reads the launcher's state while its launcher runs", async () => {
    const state = stateOf(process.pid);
    expect(await readSupervision(stateFile("live.json", JSON.stringify(state)))).toEqual({ supervised: true, state });
  });

  it.each([
    ["a missing file", () => path.join(dir, "missing.json"), /state file is gone/],
    ["a file that is not the launcher's state", () => stateFile("bad.json", '{"processes": 3}'), /unreadable/],
    ["half a file", () => stateFile("half.json", '{"launcher_pid": 1'), /unreadable/],
    // A pid far above pid_max (4194304 on Linux) never names a live process.
    ["a file left by a launcher that is gone", () => stateFile("dead.json", JSON.stringify(stateOf(99_999_999))), /launcher \(pid 99999999\) is gone/],
  ])("invents nothing from %s", async (_what, file, reason) => {
    const report = await readSupervision(file());
    expect(report.supervised).toBe(false);
    expect(!report.supervised && report.reason).toMatch(reason);
  });
});

describe("how a supervised process reads on the page", () => {
  it("is green while running, whatever its restarts; amber while restarting; red only in a crash loop", () => {
    expect(processTone(proc({ restarts: 3 }))).toBe("ok");
    expect(processTone(proc({ state: "restarting" }))).toBe("warn");
    expect(processTone(proc({ state: "starting" }))).toBe("warn");
    expect(processTone(proc({ state: "crash-loop" }))).toBe("down");
  });

  it("describes the last exit with its reason", () => {
    expect(lastExitText(proc(), String)).toBe("—");
    expect(lastExitText(proc({ last_exit: { code: 1, signal: null, ts: 7, error: "listen EADDRINUSE" } }), String)).toBe("exit code 1 · 7 · listen EADDRINUSE");
    expect(lastExitText(proc({ last_exit: { code: null, signal: "SIGKILL", ts: 7, error: null } }), String)).toBe("signal SIGKILL · 7");
  });
});
