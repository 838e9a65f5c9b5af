import { afterEach, describe, expect, it } from "vitest";
import { RequestThread } from "@/lib/threads/request-thread";

type Req = { op: "double" | "throw" | "die"; values?: Float64Array };
const threads: RequestThread<Req, Float64Array>[] = [];
const thread = () => {
  const t = new RequestThread<Req, Float64Array>(new URL("./fixtures/test-thread.mjs", import.meta.url), "test");
  threads.push(t);
  return t;
};
afterEach(async () => {
  for (const t of threads.splice(0)) await t.close();
});

describe("RequestThread", () => {
  it("answers requests, transferring buffers both ways", async () => {
    const t = thread();
    const values = new Float64Array([1, 2.5]);
    expect(Array.from(await t.request({ op: "double", values }, [values.buffer]))).toEqual([2, 5]);
    // Transferred: the caller's buffer is gone.
    expect(values.length).toBe(0);
  });

  it("rejects with the thread's error by name and message, and keeps serving", async () => {
    const t = thread();
    await expect(t.request({ op: "throw" })).rejects.toThrow("test: RangeError: asked to throw");
    expect(Array.from(await t.request({ op: "double", values: new Float64Array([4]) }))).toEqual([8]);
  });

  it("fails the requests of a thread that died, and starts a new one for the next", async () => {
    const t = thread();
    await expect(t.request({ op: "die" })).rejects.toThrow("test thread exited with code 3");
    expect(Array.from(await t.request({ op: "double", values: new Float64Array([3]) }))).toEqual([6]);
  });
});
