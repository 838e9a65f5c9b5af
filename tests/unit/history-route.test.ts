import { describe, expect, it } from "vitest";
import { historyRoute } from "@/lib/history/route";
import { HistoryStore } from "@/lib/history/store";

process.env.LOG_LEVEL = "silent";

const NAMES = ["infermesh", "lag", "embed-worker"];
const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 2, 0, 0, 0);

/** A store with one event of each stream every 30 s for the last 25 h (before `now`). */
function filledStore(now: number) {
  let clock = now - 25 * 60 * MIN;
  const store = new HistoryStore({ windowMs: 24 * 60 * MIN, now: () => clock });
  for (; clock < now; clock += 30_000) {
    store.add("lag", JSON.stringify({ total_lag: clock % 7, timestamp: clock / 1000 }));
    store.add("infermesh", JSON.stringify({ infermesh: { status: "healthy", rtt_ms: 1 }, timestamp: clock / 1000 }));
  }
  clock = now;
  return store;
}

function call(query: string, now = T0) {
  const store = filledStore(now);
  const GET = historyRoute(async () => store, NAMES, () => now);
  return GET(new Request(`http://console.test/api/history${query}`), undefined);
}

describe("GET /api/history", () => {
  it.each([
    ["no names", "?window=1h", /names/],
    ["an unknown stream", "?names=lag,nope&window=1h", /expected names among infermesh,lag,embed-worker/],
    ["an empty name list", "?names=&window=1h", /expected names among/],
    ["an unknown window", "?names=lag&window=2h", /expected window among 15m,1h,6h,24h/],
  ])("answers 422 naming what is valid for %s", async (_, query, message) => {
    const res = await call(query);
    expect(res.status).toBe(422);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.message).toMatch(message);
  });

  it.each([
    ["15m", 15 * MIN, 30],
    ["1h", 60 * MIN, 120],
    // past the recent hour: one point per minute
    ["6h", 6 * 60 * MIN, 120 + 5 * 60],
    ["24h", 24 * 60 * MIN, 120 + 23 * 60],
  ])("window %s: each named stream's events of that window, oldest first, with their data as on the stream", async (window, ms, count) => {
    const res = await call(`?names=lag,infermesh,embed-worker&window=${window}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as { window: string; now: number; events: Record<string, { t: number; data: Record<string, unknown> }[]> };
    expect(body.window).toBe(window);
    expect(body.now).toBe(T0);
    expect(Object.keys(body.events)).toEqual(["lag", "infermesh", "embed-worker"]);
    expect(body.events["embed-worker"]).toEqual([]);
    for (const name of ["lag", "infermesh"]) {
      const ts = body.events[name]!.map((e) => e.t);
      expect(ts.length).toBe(count);
      expect(ts.every((t) => t >= T0 - ms && t < T0)).toBe(true);
      expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    }
    expect(body.events.lag!.at(-1)!.data).toEqual({ total_lag: (T0 - 30_000) % 7, timestamp: (T0 - 30_000) / 1000 });
  });

  it("takes 15m when no window is given, and a name listed twice once", async () => {
    const res = await call("?names=lag,lag");
    const body = (await res.json()) as { window: string; events: Record<string, unknown[]> };
    expect(body.window).toBe("15m");
    expect(Object.keys(body.events)).toEqual(["lag"]);
    expect(body.events.lag).toHaveLength(30);
  });
});
