import { describe, expect, it } from "vitest";
import { appendEvents, emptyFeed, type FeedEvent } from "@/components/live/feed-reducer";

const ev = (id: number): FeedEvent<{ n: number }> => ({ id, t: id * 1000, data: { n: id } });

describe("live feed reducer", () => {
  it("appends in order and keeps at most the cap, dropping the oldest", () => {
    let s = emptyFeed<{ n: number }>();
    for (let i = 1; i <= 25; i += 5) s = appendEvents(s, [ev(i), ev(i + 1), ev(i + 2), ev(i + 3), ev(i + 4)], 10);
    expect(s.events.map((e) => e.id)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
  });

  it("ignores a replayed backlog after a reconnect (ids already seen)", () => {
    const s1 = appendEvents(emptyFeed(), [ev(1), ev(2), ev(3)]);
    const s2 = appendEvents(s1, [ev(2), ev(3), ev(4)]);
    expect(s2.events.map((e) => e.id)).toEqual([1, 2, 3, 4]);
  });

  it("returns the same state for an empty or all-duplicate batch (no re-render)", () => {
    const s = appendEvents(emptyFeed(), [ev(1)]);
    expect(appendEvents(s, [])).toBe(s);
    expect(appendEvents(s, [ev(1)])).toBe(s);
  });

  it("starts over when the server restarted and numbers events from 1 again", () => {
    const s = appendEvents(emptyFeed(), [ev(7), ev(8)]);
    expect(appendEvents(s, [ev(1), ev(2)]).events.map((e) => e.id)).toEqual([1, 2]);
  });
});
