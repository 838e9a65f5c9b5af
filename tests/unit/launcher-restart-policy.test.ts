import { describe, expect, it } from "vitest";
import { defaultBackoff, restartPolicy } from "@/scripts/launcher/restart-policy";
import { lastError } from "@/scripts/launcher/supervise";

const policy = (crashLoopRestarts = 5, crashLoopWindowMs = 300_000) => restartPolicy({ ...defaultBackoff, crashLoopRestarts, crashLoopWindowMs });

/** Start at `t`, exit `runMs` later; returns the decision and the time of the next start. */
function cycle(p: ReturnType<typeof policy>, t: number, runMs: number) {
  p.started(t);
  const decision = p.exited(t + runMs);
  return { decision, next: t + runMs + (decision.action === "restart" ? decision.delayMs : 0) };
}

describe("restart policy", () => {
  it("backs off 1 s doubling to a 30 s cap while a process keeps dying", () => {
    const p = policy(100, 3_600_000);
    const delays: number[] = [];
    let t = 0;
    for (let i = 0; i < 8; i++) {
      const { decision, next } = cycle(p, t, 100);
      if (decision.action !== "restart") throw new Error("gave up too early");
      delays.push(decision.delayMs);
      t = next;
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it("resets the backoff after a minute of stable running", () => {
    const p = policy(100, 3_600_000);
    let t = 0;
    for (let i = 0; i < 4; i++) t = cycle(p, t, 100).next; // 1, 2, 4, 8 s
    expect(cycle(p, t, 59_999).decision).toMatchObject({ action: "restart", delayMs: 16_000, attempt: 5 });
    t += 59_999 + 16_000;
    expect(cycle(p, t, 60_000).decision).toMatchObject({ action: "restart", delayMs: 1_000, attempt: 1 });
  });

  it("gives up on the exit after N restarts within the window, naming how many exits it counted", () => {
    const p = policy(2, 60_000);
    let t = 0;
    expect(cycle(p, t, 100).decision.action).toBe("restart");
    t += 1_100;
    expect(cycle(p, t, 100).decision.action).toBe("restart");
    t += 2_100;
    expect(cycle(p, t, 100).decision).toEqual({ action: "give-up", exitsInWindow: 3 });
  });

  it("does not count exits that fell out of the window: a process dying every few minutes keeps being restarted", () => {
    const p = policy(2, 60_000);
    let t = 0;
    for (let i = 0; i < 10; i++) {
      const { decision } = cycle(p, t, 70_000);
      expect(decision).toMatchObject({ action: "restart", delayMs: 1_000 });
      t += 71_000;
    }
  });

  it("counts a failed start (no start recorded) as an exit of the streak", () => {
    const p = policy(5, 300_000);
    p.started(0);
    expect(p.exited(100)).toMatchObject({ delayMs: 1_000 });
    // The restart at 1.1 s never became ready: no started() call.
    expect(p.exited(1_200)).toMatchObject({ delayMs: 2_000, attempt: 2 });
  });
});

describe("lastError", () => {
  it("prefers the last error-looking line, reading pino JSON as msg: error", () => {
    const lines = [
      '{"level":30,"msg":"listening"}',
      '{"level":50,"msg":"kafka consumer crashed","err":{"message":"The coordinator is not aware of this member"}}',
      '{"level":30,"msg":"shutting down"}',
    ];
    expect(lastError(lines)).toBe("kafka consumer crashed: The coordinator is not aware of this member");
  });

  it("falls back to the last line, bounded, and is null without output", () => {
    expect(lastError(["a", "b   c"])).toBe("b c");
    expect(lastError(["x".repeat(1000)])!.length).toBe(240);
    expect(lastError([])).toBeNull();
    expect(lastError(['{"level":30,"msg":"embed-worker started"}'], { orLastLine: false })).toBeNull();
  });
});
