/**
 * SSE connection caps: per client address and in total, 429 too_many_streams
 * with Retry-After past either, and a slot given back whenever a stream ends
 * (client gone, server close, reader cancelled, a slow reader dropped, a start
 * that throws), so the count never leaks.
 */
import { afterEach, describe, expect, it } from "vitest";
import { combinedStreamRoute } from "@/lib/sse/combined-route";
import { STREAM_RETRY_AFTER_SEC, StreamLimiter } from "@/lib/sse/limits";
import { Poller } from "@/lib/sse/poller";
import { sseResponse } from "@/lib/sse/response";
import { streamRoute } from "@/lib/sse/stream-route";
import { SseTestClient } from "./sse-helpers";
import { waitFor } from "../harness/wait-for";

// Read once, on first use (no import above reads the configuration at load).
Object.assign(process.env, { LOG_LEVEL: "silent", CONSOLE_SSE_MAX_PER_CLIENT: "2", CONSOLE_SSE_MAX_TOTAL: "3", CONSOLE_TRUST_PROXY: "0" });

const opened: AbortController[] = [];
afterEach(() => {
  for (const c of opened.splice(0)) c.abort();
});

const poller = () => new Poller({ event: "x", intervalMs: 60_000, history: 10, poll: async () => ({ ok: true }) });

function caps(maxPerClient: number, maxTotal: number) {
  return new StreamLimiter(() => ({ maxPerClient, maxTotal }));
}

/** One GET of a stream route from `client` (its X-Forwarded-For, as Next's server sets it from the socket). */
async function open(GET: (r: Request, c: undefined) => Promise<Response>, client: string, path = "/api/x/stream") {
  const controller = new AbortController();
  opened.push(controller);
  const res = await GET(new Request(`http://console.test${path}`, { signal: controller.signal, headers: { "x-forwarded-for": client } }), undefined);
  return { res, abort: () => controller.abort() };
}

async function expectRefused(res: Response, cap: RegExp) {
  expect(res.status).toBe(429);
  expect(res.headers.get("retry-after")).toBe(String(STREAM_RETRY_AFTER_SEC));
  expect(res.headers.get("content-type")).toContain("application/json");
  const body = await res.json();
  expect(body.error.code).toBe("too_many_streams");
  expect(body.error.message).toMatch(cap);
}

describe("SSE connection caps", () => {
  it.each([
    { name: "per client", maxPerClient: 3, maxTotal: 100, clients: ["10.0.0.1", "10.0.0.1", "10.0.0.1"], next: "10.0.0.1", other: "10.0.0.2", cap: /limit per client \(CONSOLE_SSE_MAX_PER_CLIENT\)/ },
    { name: "in total", maxPerClient: 3, maxTotal: 4, clients: ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"], next: "10.0.0.5", other: undefined, cap: /its limit \(CONSOLE_SSE_MAX_TOTAL\)/ },
  ])("refuses one stream over the cap $name with 429 and Retry-After", async ({ maxPerClient, maxTotal, clients, next, other, cap }) => {
    const limiter = caps(maxPerClient, maxTotal);
    const GET = streamRoute(poller, { keepAliveMs: 60_000, limiter });
    for (const c of clients) expect((await open(GET, c)).res.status).toBe(200);
    await expectRefused((await open(GET, next)).res, cap);
    expect(limiter.open).toBe(clients.length);
    // Another client is not held back by one client's streams.
    if (other) expect((await open(GET, other)).res.status).toBe(200);
  });

  it("counts the combined stream and single streams together", async () => {
    const limiter = caps(2, 10);
    const single = streamRoute(poller, { keepAliveMs: 60_000, limiter });
    const p = poller();
    const combined = combinedStreamRoute(() => p, { keepAliveMs: 60_000, limiter });
    expect((await open(single, "10.0.0.1")).res.status).toBe(200);
    expect((await open(combined, "10.0.0.1", "/api/streams?names=lag")).res.status).toBe(200);
    await expectRefused((await open(combined, "10.0.0.1", "/api/streams?names=lag")).res, /CONSOLE_SSE_MAX_PER_CLIENT/);
    await expectRefused((await open(single, "10.0.0.1")).res, /CONSOLE_SSE_MAX_PER_CLIENT/);
  });

  it("never leaks a slot: open N, end each in a different way, open N again", async () => {
    const N = 4;
    const limiter = caps(N, N);
    const p = poller();
    const GET = streamRoute(() => p, { keepAliveMs: 60_000, limiter });
    // A fresh poller each time, so ?once=1 has its event at once.
    const ONCE = streamRoute(poller, { keepAliveMs: 60_000, limiter });
    for (let round = 0; round < 3; round++) {
      const streams = await Promise.all(Array.from({ length: N }, () => open(GET, "10.0.0.9")));
      expect(streams.map((s) => s.res.status)).toEqual(Array(N).fill(200));
      expect(limiter.open).toBe(N);
      await expectRefused((await open(GET, "10.0.0.9")).res, /CONSOLE_SSE_MAX_PER_CLIENT/);

      const readers = [0, 2, 3].map((i) => new SseTestClient(streams[i]!.res));
      streams[0]!.abort(); // the client goes away (request.signal)
      await streams[1]!.res.body!.cancel(); // the body is cancelled (as when the response cannot be written any more)
      streams[2]!.abort();
      streams[3]!.abort();
      await Promise.all(readers.map((c) => c.closed()));
      expect(limiter.open).toBe(0);

      // A ?once=1 stream is closed from the server side after its one event.
      const once = await open(ONCE, "10.0.0.9", "/api/x/stream?once=1");
      await new SseTestClient(once.res).closed();
      expect(limiter.open).toBe(0);
      expect(limiter.openFor("10.0.0.9")).toBe(0);
    }
    expect(p.subscribers).toBe(0);
  });

  it("a refused request holds no slot, and a bad query takes none", async () => {
    const limiter = caps(1, 1);
    const GET = streamRoute(poller, { keepAliveMs: 60_000, limiter });
    const first = await open(GET, "10.0.0.1");
    for (let i = 0; i < 5; i++) expect((await open(GET, "10.0.0.1")).res.status).toBe(429);
    first.abort();
    await waitFor("the first slot given back", () => limiter.open === 0, 10_000, 5);
    expect((await open(GET, "10.0.0.1", "/api/x/stream?once=maybe")).res.status).toBe(422);
    expect(limiter.open).toBe(0);
    expect((await open(GET, "10.0.0.1")).res.status).toBe(200);
  });
});

describe("sseResponse gives the slot back when the server ends the stream", () => {
  it("when it drops a client that stopped reading", async () => {
    const limiter = caps(1, 1);
    const controller = new AbortController();
    opened.push(controller);
    let cleanups = 0;
    const big = "a".repeat(100_000);
    // Nobody reads this response: past ~1 MiB queued the server drops it.
    sseResponse(new Request("http://console.test/", { signal: controller.signal }), {
      keepAliveMs: 60_000,
      retryMs: 1000,
      limit: { limiter, client: "10.0.0.1" },
      start(sink) {
        for (let i = 1; i <= 20; i++) sink.send({ id: i, event: "x", data: big });
        return () => cleanups++;
      },
    });
    expect(cleanups).toBe(1);
    expect(limiter.open).toBe(0);
  });

  it("when its start throws", () => {
    const limiter = caps(1, 1);
    const start = () => {
      throw new Error("poller failed to start");
    };
    expect(() => sseResponse(new Request("http://console.test/"), { keepAliveMs: 60_000, retryMs: 1000, limit: { limiter, client: "c" }, start })).toThrow("poller failed to start");
    expect(limiter.open).toBe(0);
  });
});

describe("the console's own caps", () => {
  it("come from CONSOLE_SSE_MAX_PER_CLIENT and CONSOLE_SSE_MAX_TOTAL, shared by every stream route", async () => {
    const a = streamRoute(poller, { keepAliveMs: 60_000 });
    const p = poller();
    const b = combinedStreamRoute(() => p, { keepAliveMs: 60_000 });
    expect((await open(a, "192.0.2.1")).res.status).toBe(200);
    expect((await open(b, "192.0.2.1", "/api/streams?names=lag")).res.status).toBe(200);
    await expectRefused((await open(a, "192.0.2.1")).res, /already holds 2 live streams/);
    expect((await open(b, "192.0.2.2", "/api/streams?names=lag")).res.status).toBe(200);
    await expectRefused((await open(a, "192.0.2.3")).res, /already holds 3 live streams, its limit/);
  });
});
