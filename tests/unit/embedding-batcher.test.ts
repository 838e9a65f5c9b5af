import { describe, expect, it } from "vitest";
import { DynamicBatcher, QueueFullError } from "@/workers/infermesh/batcher";

/** A model stand-in whose calls finish only when the test says so. */
function gatedModel() {
  const calls: { texts: string[]; finish: () => void }[] = [];
  const run = (texts: string[]) =>
    new Promise<string[]>((resolve) => calls.push({ texts, finish: () => resolve(texts.map((t) => t.toUpperCase())) }));
  return { run, calls };
}

const opts = { maxBatch: 4, maxWaitMs: 5, queueMax: 8, maxBatchChars: 1000 };

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
    expect(() => b.submit(["c", "d"])).toThrow(QueueFullError);
    try {
      b.submit(["c", "d"]);
    } catch (e) {
      expect((e as QueueFullError).retryAfterSec).toBeGreaterThanOrEqual(1);
    }
  });

  it("closes a batch early rather than pad many short inputs to one long one", async () => {
    const m = gatedModel();
    const b = new DynamicBatcher(m.run, { ...opts, maxBatchChars: 100 });
    void b.submit(["s", "s", "x".repeat(60), "s"]);
    await expect.poll(() => m.calls.length).toBe(1);
    expect(m.calls[0]?.texts).toEqual(["s", "s"]);
    m.calls[0]?.finish();
    await expect.poll(() => m.calls.length).toBe(2);
    expect(m.calls[1]?.texts).toEqual(["x".repeat(60)]);
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

describe("DynamicBatcher with two model threads", () => {
  it("keeps both threads busy and never runs more calls than threads", async () => {
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

  it("hands a full batch to a busy thread to queue in (one per thread), never a partial one", async () => {
    const m = gatedModel();
    const b = new DynamicBatcher(m.run, { ...opts, queueMax: 16, concurrency: 1 });
    const p = b.submit(["a", "b", "c", "d", "e", "f", "g", "h", "i"]);
    // One computing, one full batch queued behind it; "i" waits for a free thread.
    await expect.poll(() => m.calls.length).toBe(2);
    expect(m.calls.map((c) => c.texts)).toEqual([["a", "b", "c", "d"], ["e", "f", "g", "h"]]);
    await new Promise((r) => setTimeout(r, 3 * opts.maxWaitMs));
    expect(m.calls).toHaveLength(2);
    m.calls[0]?.finish();
    m.calls[1]?.finish();
    await expect.poll(() => m.calls.length).toBe(3);
    expect(m.calls[2]?.texts).toEqual(["i"]);
    m.calls[2]?.finish();
    expect(await p).toEqual(["A", "B", "C", "D", "E", "F", "G", "H", "I"]);
    await b.idle();
  });
});
