import { afterEach, describe, expect, it } from "vitest";
import { StreamLimiter } from "@/lib/sse/limits";
import { Poller } from "@/lib/sse/poller";
import { RingBuffer } from "@/lib/sse/ring-buffer";
import { streamRoute } from "@/lib/sse/stream-route";
import { SseTestClient } from "./sse-helpers";
import { waitFor } from "../harness/wait-for";

process.env.LOG_LEVEL = "silent";

/** An upstream stand-in that counts how often it is polled. */
function countingUpstream() {
  const upstream = { calls: 0, poll: async () => ({ n: ++upstream.calls }) };
  return upstream;
}

const opened: AbortController[] = [];
afterEach(() => {
  for (const c of opened.splice(0)) c.abort();
});

async function connect(poller: Poller<unknown>, { query = "", lastEventId, limiter }: { query?: string; lastEventId?: string; limiter?: StreamLimiter } = {}) {
  const controller = new AbortController();
  opened.push(controller);
  const headers = lastEventId ? { "last-event-id": lastEventId } : undefined;
  const GET = streamRoute(() => poller, { keepAliveMs: 60_000, limiter });
  const res = await GET(new Request(`http://console.test/api/x/stream${query}`, { signal: controller.signal, headers }), undefined);
  return { client: new SseTestClient(res), abort: () => controller.abort(), res };
}

describe("SSE stream over a shared poller", () => {
  it("answers text/event-stream with no caching, no proxy buffering and a retry delay", async () => {
    const poller = new Poller({ event: "x", intervalMs: 1_000, history: 10, poll: countingUpstream().poll });
    const { client, res } = await connect(poller);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(res.headers.get("cache-control")).toContain("no-cache");
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    await waitFor("first event", () => client.events.length === 1, 10_000, 5);
    expect(client.retry).toBe(3000);
    expect(client.events[0]).toMatchObject({ id: "1", event: "x", data: '{"n":1}' });
  });

  it("polls the upstream once per interval for 200 concurrent subscribers, not 200 times", async () => {
    const upstream = countingUpstream();
    const poller = new Poller({ event: "x", intervalMs: 1_000, history: 10, poll: upstream.poll });
    // Fan-out, not connection caps (tests/unit/sse-limits.test.ts): room for all 200 from one address.
    const limiter = new StreamLimiter(() => ({ maxPerClient: 200, maxTotal: 200 }));
    const clients = await Promise.all(Array.from({ length: 200 }, () => connect(poller, { limiter })));
    expect(poller.subscribers).toBe(200);
    await waitFor("every client has two events", () => clients.every(({ client }) => client.events.length >= 2), 10_000, 5);
    expect(upstream.calls).toBe(2);
    for (const { client } of clients) expect(client.events.slice(0, 2).map((e) => e.data)).toEqual(['{"n":1}', '{"n":2}']);
  });

  it("releases a disconnecting client's subscription, and stops polling when the last one leaves", async () => {
    const upstream = countingUpstream();
    const poller = new Poller({ event: "x", intervalMs: 50, history: 10, poll: upstream.poll });
    const a = await connect(poller);
    const b = await connect(poller);
    await waitFor("both clients have an event", () => a.client.events.length > 0 && b.client.events.length > 0, 10_000, 5);
    a.abort();
    await waitFor("a's subscription released", () => poller.subscribers === 1, 10_000, 5);
    await a.client.closed();
    const seenByB = b.client.events.length;
    await waitFor("b still gets events", () => b.client.events.length > seenByB, 10_000, 5);
    b.abort();
    await waitFor("the poller stopped", () => poller.subscribers === 0 && !poller.running, 10_000, 5);
    const calls = upstream.calls;
    // A new subscriber restarts it.
    const c = await connect(poller);
    await waitFor("polling again", () => upstream.calls > calls && c.client.events.length > 0, 10_000, 5);
  });

  it("starts a new subscriber with the ring buffer and resumes after Last-Event-ID without gaps", async () => {
    const poller = new Poller({ event: "x", intervalMs: 20, history: 100, poll: countingUpstream().poll });
    const first = await connect(poller);
    await waitFor("five events", () => first.client.events.length >= 5, 10_000, 5);
    const late = await connect(poller);
    await waitFor("late client has the backlog", () => late.client.events.length >= 5, 10_000, 5);
    expect(late.client.ids().slice(0, 5)).toEqual([1, 2, 3, 4, 5]);

    first.abort();
    const lastSeen = first.client.ids().at(-1)!;
    await waitFor("more events meanwhile", () => late.client.ids().at(-1)! >= lastSeen + 3, 10_000, 5);
    const resumed = await connect(poller, { lastEventId: String(lastSeen) });
    await waitFor("resumed client caught up", () => resumed.client.events.length >= 3, 10_000, 5);
    const ids = resumed.client.ids();
    expect(ids[0]).toBe(lastSeen + 1);
    expect(ids).toEqual(ids.map((_, i) => lastSeen + 1 + i));
  });

  it("?once=1 answers one event and closes, releasing its subscription", async () => {
    const poller = new Poller({ event: "x", intervalMs: 1_000, history: 10, poll: countingUpstream().poll });
    const { client } = await connect(poller, { query: "?once=1" });
    await client.closed();
    expect(client.events.map((e) => e.data)).toEqual(['{"n":1}']);
    expect(poller.subscribers).toBe(0);
  });

  it("rejects a bad query with a 422", async () => {
    const poller = new Poller({ event: "x", intervalMs: 1_000, history: 10, poll: countingUpstream().poll });
    const { res } = await connect(poller, { query: "?once=yes" });
    expect(res.status).toBe(422);
  });

  it("reports an upstream poll that throws as an event, and keeps polling", async () => {
    let calls = 0;
    const poller = new Poller({ event: "x", intervalMs: 20, history: 10, poll: async () => { calls++; if (calls === 1) throw new Error("boom"); return { ok: true }; } });
    const { client } = await connect(poller);
    await waitFor("two events", () => client.events.length >= 2, 10_000, 5);
    expect(JSON.parse(client.events[0]!.data)).toMatchObject({ error: "poll_failed", message: "boom" });
    expect(JSON.parse(client.events[1]!.data)).toEqual({ ok: true });
  });
});

describe("RingBuffer", () => {
  it("keeps the newest items up to its capacity, oldest first", () => {
    const r = new RingBuffer<number>(3);
    for (let i = 1; i <= 5; i++) r.push(i);
    expect(r.toArray()).toEqual([3, 4, 5]);
    expect(r.last()).toBe(5);
    expect(r.size).toBe(3);
  });
});

describe("sseResponse cleanup", () => {
  it.each([
    { how: "client abort", end: (c: AbortController) => c.abort() },
    { how: "server close, then client abort", end: (c: AbortController, s: { close(): void }) => { s.close(); c.abort(); } },
  ])("runs the cleanup exactly once on $how", async ({ end }) => {
    const { sseResponse } = await import("@/lib/sse/response");
    const controller = new AbortController();
    let cleanups = 0;
    let sink!: { close(): void };
    const res = sseResponse(new Request("http://console.test/", { signal: controller.signal }), {
      keepAliveMs: 60_000,
      retryMs: 1000,
      start(s) {
        sink = s;
        return () => cleanups++;
      },
    });
    const client = new SseTestClient(res);
    end(controller, sink);
    await client.closed();
    expect(cleanups).toBe(1);
  });
});
