import { describe, expect, it, vi } from "vitest";
import { DynamicBatcher, QueueFullError } from "@/workers/infermesh/batcher";

/** A model stand-in whose calls finish only when the test says so. An input's length in tokens is its length in characters. */
function gatedModel() {
  const calls: { texts: string[]; finish: () => void }[] = [];
  const run = (texts: string[]) =>
    new Promise<string[]>((resolve) => calls.push({ texts, finish: () => resolve(texts.map((t) => t.toUpperCase())) }));
  return { run, calls };
}

const tokensOf = (t: string) => t.length;
const opts = { maxBatch: 4, maxWaitMs: 5, queueMax: 8, maxBatchTokens: 1000, tokensOf };
const long = (c: string) => c.repeat(60);

describe("DynamicBatcher", () => {
  it("puts concurrent requests into one model call and gives each its own answers", async () => {
    const m = gatedModel();
    const b = new DynamicBatcher(m.run, opts);
    const p1 = b.submit(["a"]);
    const p2 = b.submit(["b", "c"]);
    await expect.poll(() => m.calls.length).toBe(1);
    expect(m.calls[0]?.texts).toEqual(["a", "b", "c"]);
    m.calls[0]?.finish();
    expect(await p1).toEqual(["A"]);
    expect(await p2).toEqual(["B", "C"]);
  });

  it("caps a call at maxBatch and batches what arrives during a call into the next one", async () => {
    const m = gatedModel();
    const b = new DynamicBatcher(m.run, opts);
    const p1 = b.submit(["a", "b", "c", "d", "e"]);
    await expect.poll(() => m.calls.length).toBe(1);
    expect(m.calls[0]?.texts).toEqual(["a", "b", "c", "d"]);
    const p2 = b.submit(["f"]);
    expect(b.depth).toBe(2);
    m.calls[0]?.finish();
    await expect.poll(() => m.calls.length).toBe(2);
    expect(m.calls[1]?.texts).toEqual(["e", "f"]);
    m.calls[1]?.finish();
    expect(await p1).toEqual(["A", "B", "C", "D", "E"]);
    expect(await p2).toEqual(["F"]);
  });

  it("refuses a request that would overfill the queue, with a retry hint", async () => {
    const m = gatedModel();
    const b = new DynamicBatcher(m.run, { ...opts, queueMax: 3 });
    void b.submit(["a", "b"]);
    expect(() => b.assertRoom(2)).toThrow(QueueFullError);
    expect(() => b.submit(["c", "d"])).toThrow(QueueFullError);
    try {
      b.submit(["c", "d"]);
    } catch (e) {
      expect((e as QueueFullError).retryAfterSec).toBeGreaterThanOrEqual(1);
    }
    expect(() => b.assertRoom(1)).not.toThrow();
  });

  it("drops the queued inputs of a request whose client went away", async () => {
    const m = gatedModel();
    // maxBatch 3: "b" and "c" are not a full batch, so they wait here (a full one would be handed to the thread).
    const b = new DynamicBatcher(m.run, { ...opts, maxBatch: 3 });
    const first = b.submit(["a"]);
    await expect.poll(() => m.calls.length).toBe(1);
    const ac = new AbortController();
    const gone = b.submit(["b", "c"], ac.signal).catch((e: unknown) => e);
    ac.abort(new Error("client closed"));
    expect(((await gone) as Error).message).toBe("client closed");
    expect(b.depth).toBe(0);
    m.calls[0]?.finish();
    expect(await first).toEqual(["A"]);
    await b.idle();
    expect(m.calls).toHaveLength(1);
  });

  it("fails every request of a batch whose model call fails, and carries on", async () => {
    let fail = true;
    const b = new DynamicBatcher(async (t: string[]) => {
      if (fail) throw new Error("model broke");
      return t;
    }, opts);
    await expect(b.submit(["a"])).rejects.toThrow("model broke");
    fail = false;
    expect(await b.submit(["b"])).toEqual(["b"]);
  });
});

describe("DynamicBatcher by tokens", () => {
  it("groups inputs of similar length, so short ones are not padded to a long one", async () => {
    const m = gatedModel();
    const b = new DynamicBatcher(m.run, { ...opts, maxBatch: 3, maxBatchTokens: 150, queueMax: 16 });
    const p = b.submit(["s1", long("x"), "s2", long("y"), "s3", "s4"]);
    await expect.poll(() => m.calls.length).toBe(2);
    // The oldest input (s1) with the nearest in length, then the two long ones together (s4 would make 3 × 60 > 150).
    expect(m.calls[0]?.texts).toEqual(["s1", "s2", "s3"]);
    expect(m.calls[1]?.texts).toEqual([long("x"), long("y")]);
    m.calls[0]?.finish();
    m.calls[1]?.finish();
    await expect.poll(() => m.calls.length).toBe(3);
    expect(m.calls[2]?.texts).toEqual(["s4"]);
    m.calls[2]?.finish();
    expect(await p).toEqual(["S1", long("X"), "S2", long("Y"), "S3", "S4"]);
  });

  it("keeps a call within maxBatchTokens padded tokens (inputs × longest)", async () => {
    const m = gatedModel();
    const b = new DynamicBatcher(m.run, { ...opts, maxBatchTokens: 100, concurrency: 4 });
    const p = b.submit(["a".repeat(30), "b".repeat(30), "c".repeat(30), "d".repeat(30), "e".repeat(20)]);
    await expect.poll(() => m.calls.length).toBe(2);
    // 3 × 30 = 90 fits, a fourth 30 would make 120; the 20 waits with nothing to pair and goes alone.
    expect(m.calls.map((c) => c.texts.map((t) => t.length))).toEqual([[30, 30, 30], [30, 20]]);
    for (const c of m.calls) c.finish();
    expect((await p).map((t) => t[0])).toEqual(["A", "B", "C", "D", "E"]);
  });

  it("sends an input longer than the budget alone rather than refuse it", async () => {
    const m = gatedModel();
    const b = new DynamicBatcher(m.run, { ...opts, maxBatchTokens: 50 });
    const p = b.submit([long("x"), "s"]);
    await expect.poll(() => m.calls.length).toBe(1);
    expect(m.calls[0]?.texts).toEqual([long("x")]);
    m.calls[0]?.finish();
    await expect.poll(() => m.calls.length).toBe(2);
    expect(m.calls[1]?.texts).toEqual(["s"]);
    m.calls[1]?.finish();
    await p;
  });

  it("never starves a long input: once it is the oldest it goes next, however many short ones wait", async () => {
    const m = gatedModel();
    // maxBatch 8: nothing here fills a batch, so each call waits for the one before.
    const b = new DynamicBatcher(m.run, { ...opts, maxBatch: 8, maxBatchTokens: 100, queueMax: 32 });
    const first = b.submit(["s", "s", long("L")]);
    await expect.poll(() => m.calls.length).toBe(1);
    expect(m.calls[0]?.texts).toEqual(["s", "s"]);
    // Short inputs keep arriving while the long one waits.
    const more = b.submit(["t", "t", "t", "t"]);
    m.calls[0]?.finish();
    await expect.poll(() => m.calls.length).toBe(2);
    expect(m.calls[1]?.texts).toEqual([long("L")]);
    m.calls[1]?.finish();
    await expect.poll(() => m.calls.length).toBe(3);
    expect(m.calls[2]?.texts).toEqual(["t", "t", "t", "t"]);
    m.calls[2]?.finish();
    expect(await first).toEqual(["S", "S", long("L")]);
    expect(await more).toEqual(["T", "T", "T", "T"]);
  });

  it("chooses batch mates only from the window of the oldest inputs", async () => {
    const m = gatedModel();
    const b = new DynamicBatcher(m.run, { ...opts, maxBatch: 2, maxBatchTokens: 1000, queueMax: 16, window: 2, concurrency: 2 });
    const p = b.submit(["aa", "bbbb", "cc"]);
    await expect.poll(() => m.calls.length).toBe(2);
    // "cc" is nearer to "aa" in length but outside a window of two.
    expect(m.calls[0]?.texts).toEqual(["aa", "bbbb"]);
    expect(m.calls[1]?.texts).toEqual(["cc"]);
    for (const c of m.calls) c.finish();
    await p;
  });

  it("does not pad a few short inputs to a long one even when the budget would allow it", async () => {
    const m = gatedModel();
    const b = new DynamicBatcher(m.run, { ...opts, maxBatch: 8, maxBatchTokens: 1000, concurrency: 2 });
    const p = b.submit(["s1", "s2", long("x"), "s3"]);
    // 4 × 60 = 240 padded tokens would fit, but only 66 of them real: the long one takes the other session.
    await expect.poll(() => m.calls.length).toBe(2);
    expect(m.calls.map((c) => c.texts)).toEqual([["s1", "s2", "s3"], [long("x")]]);
    for (const c of m.calls) c.finish();
    expect(await p).toEqual(["S1", "S2", long("X"), "S3"]);
  });

  it("reports each call's size and padded tokens", async () => {
    const seen: [number, number][] = [];
    const b = new DynamicBatcher(async (t: string[]) => t, { ...opts, onBatch: (n, padded) => seen.push([n, padded]) });
    await b.submit(["aa", "bbbb", "c"]);
    expect(seen).toEqual([[3, 12]]);
  });
});

describe("DynamicBatcher with two model sessions", () => {
  it("keeps both sessions busy and never runs more calls than sessions", async () => {
    const m = gatedModel();
    const b = new DynamicBatcher(m.run, { ...opts, queueMax: 16, concurrency: 2 });
    const p = b.submit(["a", "b", "c", "d", "e", "f", "g", "h", "i"]);
    await expect.poll(() => m.calls.length).toBe(2);
    expect(m.calls.map((c) => c.texts)).toEqual([["a", "b", "c", "d"], ["e", "f", "g", "h"]]);
    m.calls[1]?.finish();
    await expect.poll(() => m.calls.length).toBe(3);
    expect(m.calls[2]?.texts).toEqual(["i"]);
    m.calls[0]?.finish();
    m.calls[2]?.finish();
    expect(await p).toEqual(["A", "B", "C", "D", "E", "F", "G", "H", "I"]);
    await b.idle();
  });

  it("hands a full batch to a busy session to queue in (one per session), never a partial one", async () => {
    // Fake clock: "i" must still wait when its maxWait has long passed, checked without sleeping.
    vi.useFakeTimers();
    try {
      const m = gatedModel();
      const b = new DynamicBatcher(m.run, { ...opts, queueMax: 16, concurrency: 1 });
      const p = b.submit(["a", "b", "c", "d", "e", "f", "g", "h", "i"]);
      // One computing, one full batch queued behind it; "i" waits for a free session.
      await vi.advanceTimersByTimeAsync(0);
      expect(m.calls.map((c) => c.texts)).toEqual([["a", "b", "c", "d"], ["e", "f", "g", "h"]]);
      await vi.advanceTimersByTimeAsync(3 * opts.maxWaitMs);
      expect(m.calls).toHaveLength(2);
      m.calls[0]?.finish();
      m.calls[1]?.finish();
      await vi.advanceTimersByTimeAsync(opts.maxWaitMs);
      expect(m.calls).toHaveLength(3);
      expect(m.calls[2]?.texts).toEqual(["i"]);
      m.calls[2]?.finish();
      expect(await p).toEqual(["A", "B", "C", "D", "E", "F", "G", "H", "I"]);
      await b.idle();
    } finally {
      vi.useRealTimers();
    }
  });

  it("counts a batch as full when the waiting inputs fill the token budget", async () => {
    const m = gatedModel();
    const b = new DynamicBatcher(m.run, { ...opts, maxBatchTokens: 120, queueMax: 16, concurrency: 1 });
    const p = b.submit([long("a"), long("b"), long("c"), long("d"), "s"]);
    // Two of 60 fill 120: one call computing and one handed over behind it, without waiting for the first.
    await expect.poll(() => m.calls.length).toBe(2);
    expect(m.calls.map((c) => c.texts.length)).toEqual([2, 2]);
    for (const c of m.calls) c.finish();
    await expect.poll(() => m.calls.length).toBe(3);
    expect(m.calls[2]?.texts).toEqual(["s"]);
    m.calls[2]?.finish();
    await p;
  });
});
