import { describe, expect, it } from "vitest";
import type { IndexerAnswerRead, KnnNeighbor, PartitionProgress } from "@/lib/knn/answer";
import { instancesOf, mergeAnswers, mergeNeighbors, partialOf, type InstanceOutcome } from "@/lib/knn/scatter";

const n = (doc_id: string, score: number): KnnNeighbor => ({ doc_id, score, model: "m", topic: "t", embedded_ts: 1, text: null, text_truncated: false, text_len: null, text_stored: false });
const live = (...ps: number[]): PartitionProgress[] => ps.map((partition) => ({ partition, state: "live", applied: 10, end: 10 }));
const loading = (partition: number, applied: number, end: number | null): PartitionProgress => ({ partition, state: "loading", applied, end });

function ok(instance: string, assigned: number[], partitions: PartitionProgress[] | undefined, neighbors: KnnNeighbor[] = [], mode = "exact"): InstanceOutcome {
  const answer: IndexerAnswerRead = { neighbors, count_scored: neighbors.length * 10, took_ms: 1, mode, instance, ...(partitions ? { partitions } : {}) };
  return { instance, url: `http://${instance}`, assigned, result: { ok: true, answer, tookMs: 2 } };
}
const timeout = (instance: string, assigned: number[]): InstanceOutcome => ({ instance, url: `http://${instance}`, assigned, result: { ok: false, kind: "timeout", error: "timed out", tookMs: null } });
const failed = (instance: string, assigned: number[], error = "unreachable"): InstanceOutcome => ({ instance, url: `http://${instance}`, assigned, result: { ok: false, kind: "failed", error, tookMs: 3 } });

const view = (topicPartitions: number) => ({ topicPartitions, timeoutMs: 3000 });

describe("mergeNeighbors", () => {
  it.each([
    { name: "interleaves by score", lists: [[n("a", 0.9), n("c", 0.5)], [n("b", 0.7), n("d", 0.1)]], k: 3, want: ["a:0.9", "b:0.7", "c:0.5"] },
    { name: "one row per doc_id, its best score (a partition answered twice while it moves)", lists: [[n("a", 0.9), n("b", 0.6)], [n("a", 0.9), n("b", 0.8)]], k: 5, want: ["a:0.9", "b:0.8"] },
    { name: "ties ordered by doc_id", lists: [[n("z", 0.5)], [n("y", 0.5)], [n("x", 0.5)]], k: 2, want: ["x:0.5", "y:0.5"] },
    { name: "fewer than k in all", lists: [[n("a", 0.2)], []], k: 5, want: ["a:0.2"] },
    { name: "nothing", lists: [[], []], k: 5, want: [] },
  ])("$name", ({ lists, k, want }) => {
    expect(mergeNeighbors(lists, k).map((x) => `${x.doc_id}:${x.score}`)).toEqual(want);
  });
});

describe("partialOf", () => {
  it.each([
    { name: "every partition live: complete", outcomes: [ok("a", [0, 2], live(0, 2)), ok("b", [1, 3], live(1, 3))], P: 4, want: null },
    {
      name: "an instance timed out: its partitions, named with the deadline",
      outcomes: [ok("a", [0, 2], live(0, 2)), timeout("b", [1, 3])],
      P: 4,
      want: { reason: "timeout", partitions: [1, 3], message: "2 of 4 partitions not searched: indexer b did not answer within 3,000 ms (partitions 1, 3)" },
    },
    {
      name: "an instance failed",
      outcomes: [ok("a", [0], live(0)), failed("b", [1], "unreachable")],
      P: 2,
      want: { reason: "failed", partitions: [1], message: "1 of 2 partitions not searched: indexer b failed (unreachable) (partition 1)" },
    },
    {
      name: "a partition nobody owns (the group is rebalancing)",
      outcomes: [ok("a", [0, 1], live(0, 1))],
      P: 3,
      want: { reason: "unassigned", partitions: [2], message: "1 of 3 partitions not searched: partition 2 has no indexer yet (the group is rebalancing, or no indexer runs)" },
    },
    {
      name: "a partition still loading, with how far",
      outcomes: [ok("a", [0, 1], [...live(0), loading(1, 120, 500)])],
      P: 2,
      want: { reason: "loading", partitions: [1], message: "1 of 2 partitions not searched: partition 1 still loading on indexer a, at offset 120 of 500" },
    },
    {
      name: "a dead instance's partitions already live on the survivor: complete",
      outcomes: [ok("a", [0], live(0, 1)), failed("b", [1])],
      P: 2,
      want: null,
    },
    {
      name: "several reasons: the first in order timeout, failed, unassigned, loading names it, the message names all",
      outcomes: [ok("a", [0, 1], [...live(0), loading(1, 5, null)]), failed("b", [2]), timeout("c", [3])],
      P: 5,
      want: {
        reason: "timeout",
        partitions: [1, 2, 3, 4],
        message: "4 of 5 partitions not searched: indexer c did not answer within 3,000 ms (partition 3); indexer b failed (unreachable) (partition 2); partition 4 has no indexer yet (the group is rebalancing, or no indexer runs); partition 1 still loading on indexer a",
      },
    },
    {
      name: "an indexer that does not report partitions: its assignment counts as live",
      outcomes: [ok("a", [0, 1], undefined), ok("b", [2], live(2))],
      P: 3,
      want: null,
    },
    {
      name: "the topic's size unknown (INDEXER_URL stands in): a failure is still named",
      outcomes: [ok("a", [], undefined), failed("b", [], "HTTP 500")],
      P: 0,
      want: { reason: "failed", partitions: [], message: "results may be incomplete: indexer b failed (HTTP 500)" },
    },
    { name: "the topic's size unknown and all answered: complete", outcomes: [ok("a", [], undefined)], P: 0, want: null },
  ])("$name", ({ outcomes, P, want }) => {
    expect(partialOf(outcomes, view(P))).toEqual(want);
  });
});

describe("mergeAnswers", () => {
  it("sums what was scored, merges the top-k, lists every instance and says what is missing", () => {
    const merged = mergeAnswers([ok("a", [0], live(0), [n("a1", 0.9), n("a2", 0.3)]), ok("b", [1], live(1), [n("b1", 0.5)], "hnsw"), timeout("c", [2])], 2, view(3));
    expect(merged.neighbors.map((x) => x.doc_id)).toEqual(["a1", "b1"]);
    expect(merged.count_scored).toBe(30);
    expect(merged.mode).toBe("mixed");
    expect(merged.instances).toEqual([
      { instance: "a", url: "http://a", partitions: [0], ok: true, took_ms: 2 },
      { instance: "b", url: "http://b", partitions: [1], ok: true, took_ms: 2 },
      { instance: "c", url: "http://c", partitions: [2], ok: false, took_ms: null, error: "timed out" },
    ]);
    expect(merged.partial?.reason).toBe("timeout");
    expect(merged.partial?.partitions).toEqual([2]);
  });

  it("one mode when every instance used it", () => {
    expect(mergeAnswers([ok("a", [0], live(0)), ok("b", [1], live(1))], 5, view(2)).mode).toBe("exact");
  });

  it("an instance's partitions are what it answered (it may own more or fewer than the group said a moment ago)", () => {
    expect(instancesOf([ok("a", [0], live(1, 0))])[0]?.partitions).toEqual([0, 1]);
  });
});

describe("outcomesOf", () => {
  it("never shows an advertised URL's credentials, and reads a timeout apart from a failure", async () => {
    const { outcomesOf } = await import("@/lib/upstreams/indexers");
    const { knnAnswerSchema } = await import("@/lib/knn/answer");
    const set = {
      instances: [
        { instance: "https://ops:s3cret@idx-a:9102", url: "https://ops:s3cret@idx-a:9102", partitions: [0] },
        { instance: "b", url: "http://b", partitions: [1] },
      ],
      topicPartitions: 2,
      source: "group" as const,
    };
    const outcomes = outcomesOf(set, [{ ok: true, body: { neighbors: [], count_scored: 0 }, timedOut: false, tookMs: 1 }, { ok: false, err: new Error("x"), timedOut: true, tookMs: 3000 }], knnAnswerSchema);
    expect(JSON.stringify(outcomes)).not.toContain("s3cret");
    expect(outcomes[0]).toMatchObject({ instance: "https://***:***@idx-a:9102", url: "https://***:***@idx-a:9102", result: { ok: true } });
    expect(outcomes[1]).toMatchObject({ instance: "b", result: { ok: false, kind: "timeout", error: "timed out", tookMs: null } });
  });
});
