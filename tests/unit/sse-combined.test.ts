import { afterEach, describe, expect, it } from "vitest";
import { combinedStreamRoute } from "@/lib/sse/combined-route";
import { formatCursor, parseCursor } from "@/lib/sse/cursor";
import { Poller } from "@/lib/sse/poller";
import type { StreamName } from "@/lib/sse/streams";
import { SseTestClient } from "./sse-helpers";
import { waitFor } from "../harness/wait-for";

process.env.LOG_LEVEL = "silent";

const opened: AbortController[] = [];
afterEach(() => {
  for (const c of opened.splice(0)) c.abort();
});

function pollers() {
  const counts = { infermesh: 0, lag: 0 };
  const make = (event: "infermesh" | "lag") => new Poller({ event, intervalMs: 20, history: 100, poll: async () => ({ n: ++counts[event] }) });
  const byName = { infermesh: make("infermesh"), lag: make("lag") } as Record<string, Poller<unknown>>;
  return { get: (name: StreamName) => byName[name]!, counts };
}

async function connect(get: (n: StreamName) => Poller<unknown>, query: string, lastEventId?: string) {
  const controller = new AbortController();
  opened.push(controller);
  const GET = combinedStreamRoute(get, { keepAliveMs: 60_000 });
  const headers = lastEventId ? { "last-event-id": lastEventId } : undefined;
  const res = await GET(new Request(`http://console.test/api/streams${query}`, { signal: controller.signal, headers }), undefined);
  return { client: new SseTestClient(res), abort: () => controller.abort(), res };
}

describe("combined SSE stream", () => {
  it("carries several streams on one connection, each event under its stream's name with a cursor id", async () => {
    const p = pollers();
    const { client, res } = await connect(p.get, "?names=infermesh,lag");
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    await waitFor("events of both streams", () => ["infermesh", "lag"].every((n) => client.events.some((e) => e.event === n)), 10_000, 5);
    const last = client.events.at(-1)!;
    expect(parseCursor(last.id).get("infermesh")).toBeGreaterThan(0);
    expect(parseCursor(last.id).get("lag")).toBeGreaterThan(0);
  });

  it("resumes each stream after the cursor in Last-Event-ID, without gaps or repeats", async () => {
    const p = pollers();
    const first = await connect(p.get, "?names=infermesh,lag");
    await waitFor("a few events", () => first.client.events.length >= 6, 10_000, 5);
    first.abort();
    const cursor = parseCursor(first.client.events.at(-1)!.id);
    const resumed = await connect(p.get, "?names=infermesh,lag", formatCursor(cursor));
    await waitFor("both streams resumed", () => ["infermesh", "lag"].every((n) => resumed.client.events.filter((e) => e.event === n).length >= 2), 10_000, 5);
    for (const name of ["infermesh", "lag"]) {
      const ids = resumed.client.events.filter((e) => e.event === name).map((e) => parseCursor(e.id).get(name)!);
      expect(ids[0]).toBe(cursor.get(name)! + 1);
      expect(ids).toEqual(ids.map((_, i) => ids[0]! + i));
    }
  });

  it("releases every subscription when the client leaves", async () => {
    const p = pollers();
    const { client, abort } = await connect(p.get, "?names=infermesh,lag");
    await waitFor("first events", () => client.events.length >= 2, 10_000, 5);
    abort();
    await client.closed();
    await waitFor("both pollers stopped", () => !p.get("infermesh").running && !p.get("lag").running, 10_000, 5);
  });

  it.each(["", "?names=", "?names=infermesh,nope"])("rejects %j with a 422", async (query) => {
    const { res } = await connect(pollers().get, query);
    expect(res.status).toBe(422);
  });
});

describe("stream cursor", () => {
  it("round-trips and ignores malformed parts", () => {
    expect(formatCursor(parseCursor("infermesh:12,lag:40"))).toBe("infermesh:12,lag:40");
    expect([...parseCursor("infermesh:12,garbage,lag:x,:3")]).toEqual([["infermesh", 12]]);
    expect(parseCursor(undefined).size).toBe(0);
  });
});
