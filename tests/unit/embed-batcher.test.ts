import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Batcher } from "../../workers/embed/batcher";
import type { EmbedOutcome } from "../../workers/embed/resilient-embed";

const ok = (texts: string[]): EmbedOutcome[] => texts.map((t) => ({ ok: true, vector: [t.length], model: "m" }));

describe("embed-worker batcher", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("closes a batch at the size limit at once, and the rest after max wait even when nothing else arrives", async () => {
    const calls: string[][] = [];
    const b = new Batcher(async (t) => (calls.push(t), ok(t)), { size: 4, maxWaitMs: 500, maxInFlight: 2 });
    const first = b.submit(["a", "b", "c", "d", "e", "f"]);
    expect(calls).toEqual([["a", "b", "c", "d"]]);
    await vi.advanceTimersByTimeAsync(499);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([["a", "b", "c", "d"], ["e", "f"]]);
    expect((await first).map((o) => o.ok && o.vector[0])).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it("shares one batch between submitters (partitions) and answers each in its own order", async () => {
    const calls: string[][] = [];
    const b = new Batcher(async (t) => (calls.push(t), ok(t)), { size: 64, maxWaitMs: 500, maxInFlight: 1 });
    const p0 = b.submit(["x", "yy"]);
    const p1 = b.submit(["zzz"]);
    await vi.advanceTimersByTimeAsync(500);
    expect(calls).toEqual([["x", "yy", "zzz"]]);
    expect((await p0).map((o) => o.ok && o.vector[0])).toEqual([1, 2]);
    expect((await p1).map((o) => o.ok && o.vector[0])).toEqual([3]);
  });

  it("keeps closed batches queued while maxInFlight calls are running", async () => {
    const release: (() => void)[] = [];
    let running = 0;
    let peak = 0;
    const b = new Batcher(
      (t) =>
        new Promise<EmbedOutcome[]>((resolve) => {
          peak = Math.max(peak, ++running);
          release.push(() => (running--, resolve(ok(t))));
        }),
      { size: 2, maxWaitMs: 10, maxInFlight: 2 },
    );
    const all = b.submit(["a", "b", "c", "d", "e", "f"]);
    expect(peak).toBe(2);
    expect(b.depth).toBe(2);
    while (release.length > 0) {
      release.shift()!();
      await vi.advanceTimersByTimeAsync(0);
    }
    expect(await all).toHaveLength(6);
    expect(peak).toBe(2);
  });
});
