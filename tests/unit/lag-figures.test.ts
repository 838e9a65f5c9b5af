import { describe, expect, it } from "vitest";
import { CountCache, consumeRate, drainSec, readStart } from "../../lib/kafka/lag-figures";
import { afterBatch } from "../../workers/embed/consumer";

describe("lag figures (lib/kafka/lag-figures.ts)", () => {
  it.each([
    // committed, low, end → where the group reads from
    [5, 0, 13, 5],
    [null, 0, 13, 0],
    [null, 7, 13, 7],
    [3, 7, 13, 7], // committed before the log start: those records are gone
    [20, 0, 13, 13],
    [0, 0, 0, 0],
  ])("reads from %s with log start %s and end %s at %s", (committed, low, end, start) => {
    expect(readStart(committed, low, end)).toBe(start);
  });

  it.each([
    // lag, rate → drain seconds
    [0, null, 0],
    [0, 0, 0],
    [10, null, null],
    [10, 0, null],
    [10, 4, 3],
    [1_000, 100, 10],
  ])("drains %s records at %s/s in %s s", (lag, rate, sec) => {
    expect(drainSec(lag, rate)).toBe(sec);
  });

  it("measures the rate in records per second, none on the first poll", () => {
    expect(consumeRate(null, 3_000)).toBeNull();
    expect(consumeRate(30, 0)).toBeNull();
    expect(consumeRate(30, 3_000)).toBe(10);
    expect(consumeRate(1, 3_000)).toBe(0.33);
  });

  it("keeps the most recently used counts up to its bound", () => {
    const cache = new CountCache<number>(2);
    const a = CountCache.key("t", 0, 5, 6);
    const b = CountCache.key("t", 1, 5, 6);
    const c = CountCache.key("t", 0, 5, 7);
    cache.set(a, 0);
    cache.set(b, 1);
    expect(cache.get(a)).toBe(0); // a is now the most recent
    cache.set(c, 2);
    expect([cache.get(a), cache.get(b), cache.get(c), cache.size]).toEqual([0, undefined, 2, 2]);
    // One key per (topic, partition, from, to): partition 1 and offset 15 do not collide with partition 11 and offset 5.
    expect(CountCache.key("t", 1, 15, 20)).not.toBe(CountCache.key("t", 11, 5, 20));
  });
});

describe("the embed-worker's commit after a batch (workers/embed/consumer.ts afterBatch)", () => {
  it.each([
    // kafkajs' batch.lastOffset() (markers and aborted records included), the last record → offset to commit
    ["4", "4", undefined], // the fetch ended with the record: the usual lastRecord + 1
    ["5", "4", "6"], // a commit marker after it
    ["9", "4", "10"], // an aborted transaction and its marker after it
  ])("batch to %s, last record %s → %s", (batchLast, lastRecord, next) => {
    expect(afterBatch(batchLast, lastRecord)).toBe(next);
  });
});
