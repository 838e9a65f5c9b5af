/**
 * The browser side of history on load: what /api/history answers, joined to
 * what the SSE stream replays and sends, gives each poll once, in order, on
 * the browser's clock. The recorded half comes from the console's real
 * recorder path (a Poller feeding a HistoryStore, served by the route handler
 * with a real Request); the live half is what the stream hub hands use-stream.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { FeedEvent } from "@/components/live/feed-reducer";
import { liveClockOffset, mergeHistory, type HistoryAnswer, type HistoryEvent } from "@/components/live/history";
import { historyRoute } from "@/lib/history/route";
import { HistoryStore } from "@/lib/history/store";
import { Poller, type SseEvent } from "@/lib/sse/poller";
import { waitFor } from "../harness/wait-for";

type Poll = { n: number; timestamp: number };
const S = 1000;

/** What use-stream makes of an SSE message: its id, the receive time, the parsed data. */
const received = (e: SseEvent, t = Date.now()): FeedEvent<Poll> => ({ id: e.id, t, data: JSON.parse(e.data) as Poll });

describe("history + live merge (pure)", () => {
  const base = Date.UTC(2026, 11, 2, 10, 0, 0);
  const poll = (n: number): Poll => ({ n, timestamp: (base + n * 3 * S) / 1000 });
  const recorded = (n: number): HistoryEvent<Poll> => ({ t: base + n * 3 * S + 2, data: poll(n) });
  const live = (n: number, t: number): FeedEvent<Poll> => ({ id: n, t, data: poll(n) });

  it.each([
    { case: "replay overlaps the history", history: [1, 2, 3, 4, 5], live: [3, 4, 5, 6, 7], want: [1, 2, 3, 4, 5, 6, 7] },
    { case: "replay entirely inside the history", history: [1, 2, 3, 4, 5], live: [2, 3], want: [1, 2, 3, 4, 5] },
    { case: "live starts after a gap", history: [1, 2], live: [6, 7], want: [1, 2, 6, 7] },
    { case: "no history (the request failed)", history: [], live: [1, 2, 3], want: [1, 2, 3] },
    { case: "no live yet", history: [1, 2, 3], live: [], want: [1, 2, 3] },
  ])("$case: each poll once, in order", ({ history, live: liveNs, want }) => {
    // A replayed backlog arrives in one burst, all at the same receive time.
    const burst = base + 20 * 3 * S;
    const out = mergeHistory(history.map(recorded), 0, liveNs.map((n) => live(n, burst)), base - 3_600_000);
    expect(out.map((e) => e.data.n)).toEqual(want);
    expect(out.every((e, i) => i === 0 || e.t > out[i - 1]!.t)).toBe(true);
  });

  it("a replayed poll stamped a few ms after its recorded copy is still the same poll", () => {
    const early = (n: number): HistoryEvent<Poll> => ({ t: base + n * 3 * S - 5, data: poll(n) });
    const out = mergeHistory([1, 2, 3].map(early), 0, [2, 3, 4].map((n) => live(n, base + 60 * S)), 0);
    expect(out.map((e) => e.data.n)).toEqual([1, 2, 3, 4]);
  });

  it("places a live event at its poll time, not at its arrival, so a replayed burst is not piled up", () => {
    const out = mergeHistory(undefined, 0, [live(1, base + 60 * S), live(2, base + 60 * S)], base - 60 * S);
    expect(out.map((e) => e.t)).toEqual([base + 3 * S, base + 6 * S]);
  });

  it("moves server times to the browser's clock by the offset measured with the history", () => {
    const offset = 90 * S; // the browser's clock is 90 s ahead
    const out = mergeHistory([recorded(1)], offset, [live(2, 0)], 0);
    expect(out.map((e) => e.t)).toEqual([base + 3 * S + 2 + offset, base + 6 * S + offset]);
  });

  it("without history, takes the offset from the freshest live event (the smallest receive − poll gap)", () => {
    const events = [live(1, base + 3 * S + 40_000), live(2, base + 6 * S + 5_000), live(3, base + 9 * S + 5_200)];
    expect(liveClockOffset(events)).toBe(5_000);
  });

  it("keeps only the window", () => {
    const out = mergeHistory([1, 2, 3].map(recorded), 0, [live(4, 0), live(5, 0)], base + 6 * S);
    expect(out.map((e) => e.data.n)).toEqual([2, 3, 4, 5]);
  });

  it("an event without a timestamp is placed at its arrival, and dropped when it is not newer than the history", () => {
    const untimed = (n: number, t: number) => ({ id: n, t, data: { n } as unknown as Poll });
    const out = mergeHistory([recorded(1)], 0, [untimed(1, base + 3 * S + 100), untimed(2, base + 10 * S)], 0);
    expect(out.map((e) => e.data.n)).toEqual([1, 2]);
  });
});

describe("history + live merge against the console's recorder and route", () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it("a page that loads the history and then connects to the stream draws every poll once", async () => {
    let n = 0;
    // Polls 300 ms apart: above SAME_POLL_MS, as the real streams' 3–5 s are.
    const poller = new Poller<Poll>({ event: "lag", intervalMs: 300, history: 300, poll: async () => ({ n: ++n, timestamp: Date.now() / 1000 }) });
    const store = new HistoryStore({ windowMs: 3_600_000 });
    const unsubscribe = poller.subscribe((e) => store.add("lag", e.data));
    stop = unsubscribe;
    await waitFor("four recorded polls", () => n >= 4, 10_000, 20);

    const res = await historyRoute(async () => store, ["lag"])(new Request("http://console.test/api/history?names=lag&window=15m"), undefined);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as HistoryAnswer;
    const offset = Date.now() - answer.now;
    const recorded = answer.events.lag as HistoryEvent<Poll>[];
    expect(recorded.length).toBeGreaterThanOrEqual(4);

    // The stream connects: its ring replays everything (overlapping the history), then new polls arrive.
    const live: FeedEvent<Poll>[] = poller.backlog().map((e) => received(e));
    const off = poller.subscribe((e) => live.push(received(e)));
    const seen = n;
    await waitFor("two more polls", () => n >= seen + 2, 10_000, 20);
    off();

    const merged = mergeHistory(recorded, offset, live, Date.now() - 15 * 60_000);
    const ns = merged.map((e) => e.data.n);
    expect(ns).toEqual(Array.from({ length: ns.length }, (_, i) => i + 1));
    expect(ns.at(-1)).toBe(live.at(-1)!.data.n);
  });
});
