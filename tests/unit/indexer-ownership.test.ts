import { describe, expect, it } from "vitest";
import { indexerHealth, PartitionHealth } from "../../workers/indexer/health";
import { PartitionOwnership } from "../../workers/indexer/ownership";

/** The index's stored next offset per partition, as the ownership reads it. */
function setup(stored: Record<number, number> = {}) {
  const applied = new Map(Object.entries(stored).map(([p, o]) => [Number(p), o]));
  const own = new PartitionOwnership((p) => applied.get(p) ?? 0);
  return { own, apply: (p: number, offset: number) => applied.set(p, offset) };
}

describe("indexer: the partitions it owns, loading or live", () => {
  it.each([
    // [what, stored offset at assignment, end at assignment, expected state]
    ["an empty partition is live at once", 0, 0, "live"],
    ["a partition the index already holds to its end is live at once (a restart with the same partitions)", 40, 40, "live"],
    ["a partition behind its end loads", 0, 40, "loading"],
    ["a partition partly applied loads", 39, 40, "loading"],
  ] as const)("%s", (_what, stored, end, state) => {
    const { own } = setup({ 3: stored });
    own.assign([3]);
    own.setEnd(3, end);
    expect(own.list()).toEqual([{ partition: 3, state, applied: stored, end }]);
  });

  it("stays loading while its end is unknown, and turns live once the index reaches the end seen at assignment", () => {
    const { own, apply } = setup();
    own.assign([0]);
    expect(own.list()[0]).toMatchObject({ state: "loading", end: null });
    own.setEnd(0, 10);
    apply(0, 9);
    own.reached(0, 9);
    expect(own.list()[0]).toMatchObject({ state: "loading", applied: 9, end: 10 });
    apply(0, 10);
    own.reached(0, 10);
    expect(own.list()[0]).toMatchObject({ state: "live", applied: 10 });
    // New records after that do not make it loading again; a later end is not taken either.
    own.setEnd(0, 50);
    expect(own.list()[0]).toMatchObject({ state: "live", end: 10 });
  });

  it("counts the consumer moving past transaction markers (which never reach the index) as reaching the end", () => {
    const { own } = setup({ 1: 9 });
    own.assign([1]);
    own.setEnd(1, 10);
    expect(own.list()[0]?.state).toBe("loading");
    own.reached(1, 10);
    expect(own.list()[0]).toMatchObject({ state: "live", applied: 9 });
  });

  it("returns the partitions revoked by a new assignment, keeps the state of those kept and starts new ones loading", () => {
    const { own } = setup({ 0: 5, 1: 5 });
    expect(own.assigned).toBe(false);
    expect(own.assign([0, 1])).toEqual([]);
    own.setEnd(0, 5);
    own.setEnd(1, 5);
    expect(own.assign([1, 2])).toEqual([0]);
    expect(own.assigned).toBe(true);
    expect(own.owns(0)).toBe(false);
    expect(own.list()).toEqual([
      { partition: 1, state: "live", applied: 5, end: 5 },
      { partition: 2, state: "loading", applied: 0, end: null },
    ]);
    // A batch of a partition no longer owned changes nothing.
    own.reached(0, 100);
    expect(own.partitions()).toEqual([1, 2]);
  });

  it("starts a partition that comes back loading again (it was released and is rebuilt from the topic)", () => {
    const { own } = setup();
    own.assign([0]);
    own.setEnd(0, 0);
    expect(own.list()[0]?.state).toBe("live");
    own.assign([]);
    own.assign([0]);
    expect(own.list()[0]).toMatchObject({ state: "loading", end: null });
  });
});

describe("indexer: /health names the instance and what it owns", () => {
  it("lists owned partitions beside the stalled ones, and stays 200 while a partition loads", () => {
    const { own } = setup({ 0: 10 });
    own.assign([0, 1]);
    own.setEnd(0, 10);
    own.setEnd(1, 30);
    const health = new PartitionHealth();
    health.stall(1, 0, "waiting on the RedDB mirror");
    const { httpStatus, body } = indexerHealth("ok", health, { totalIds: 10, dim: 8 }, { instance: "idx-a", ownership: own });
    expect(httpStatus).toBe(200);
    expect(body).toMatchObject({
      status: "degraded",
      instance: "idx-a",
      partitions: [{ partition: 1, offset: 0, reason: "waiting on the RedDB mirror" }],
      owned: [
        { partition: 0, state: "live", applied: 10, end: 10 },
        { partition: 1, state: "loading", applied: 0, end: 30 },
      ],
    });
  });
});
