import { describe, expect, it } from "vitest";
import type { PartitionProgress } from "@/lib/knn/answer";
import type { InstanceOutcome } from "@/lib/knn/scatter";
import { mergeShards, type IndexerShards } from "@/lib/knn/shards";

const live = (...ps: number[]): PartitionProgress[] => ps.map((partition) => ({ partition, state: "live", applied: 1, end: 1 }));
const shard = (id: number, count: number, samples: string[], bytes: number | null = count * 100, last_update: number | null = 100 + count) => ({
  id,
  count,
  samples,
  sample_docs: samples.map((doc_id) => ({ doc_id, text: `text of ${doc_id}`, text_truncated: false, text_stored: true })),
  bytes,
  last_update,
});
function ok(instance: string, partitions: number[], shards: IndexerShards["shards"], model: string | null = "m"): InstanceOutcome<IndexerShards> {
  const total = shards.reduce((n, s) => n + s.count, 0);
  const answer: IndexerShards = { shards, total_ids: total, nonempty: shards.filter((s) => s.count > 0).length, dims_by_model: model ? { [model]: 384 } : {}, model, timestamp: 1000, instance, partitions: live(...partitions) };
  return { instance, url: `http://${instance}`, assigned: partitions, result: { ok: true, answer, tookMs: 1 } };
}

describe("mergeShards", () => {
  it("sums each shard id over the instances and interleaves their samples up to one instance's number", () => {
    const merged = mergeShards(
      [
        ok("a", [0], [shard(0, 3, ["a1", "a2", "a3"]), shard(1, 0, [], 0, null)]),
        ok("b", [1], [shard(0, 2, ["b1", "b2"]), shard(1, 4, ["b3"], null, 900)]),
      ],
      { topicPartitions: 2, timeoutMs: 3000 },
    );
    expect(merged.shards).toEqual([
      { id: 0, count: 5, samples: ["a1", "b1", "a2"], sample_docs: merged.shards[0]!.sample_docs, bytes: 500, last_update: 103 },
      { id: 1, count: 4, samples: ["b3"], sample_docs: merged.shards[1]!.sample_docs, bytes: 0, last_update: 900 },
    ]);
    expect(merged.shards[0]!.sample_docs?.map((d) => d.doc_id)).toEqual(["a1", "b1", "a2"]);
    expect(merged).toMatchObject({ total_ids: 9, nonempty: 2, dims_by_model: { m: 384 }, model: "m", partial: null });
    expect(merged.instances.map((i) => [i.instance, i.ok, i.partitions, i.total_ids])).toEqual([["a", true, [0], 3], ["b", true, [1], 6]]);
  });

  it("counts what answered and names the partitions of an instance that did not", () => {
    const merged = mergeShards(
      [ok("a", [0, 2], [shard(0, 3, ["a1"])]), { instance: "b", url: "http://b", assigned: [1, 3], result: { ok: false, kind: "failed", error: "unreachable", tookMs: 2 } }],
      { topicPartitions: 4, timeoutMs: 3000 },
    );
    expect(merged.total_ids).toBe(3);
    expect(merged.partial).toMatchObject({ reason: "failed", partitions: [1, 3] });
    expect(merged.instances[1]).toMatchObject({ instance: "b", ok: false, error: "unreachable", total_ids: null });
  });

  it("takes the model from whichever instance holds vectors", () => {
    const merged = mergeShards([ok("a", [0], [shard(0, 0, [])], null), ok("b", [1], [shard(0, 1, ["b1"])], "bge")], { topicPartitions: 2, timeoutMs: 3000 });
    expect(merged.model).toBe("bge");
  });
});
