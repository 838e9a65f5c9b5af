import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import { assignIndexerPartitions, decodeIndexerMember, encodeIndexerMember, indexerAssigner, INDEXER_ASSIGNER } from "../../lib/kafka/indexer-group";

const { AssignerProtocol } = kafkajs;

describe("indexer group: the member metadata", () => {
  it.each([
    { instance: "idx-a", url: "http://127.0.0.1:9102" },
    { instance: "http://10.0.0.7:9103", url: "http://10.0.0.7:9103" },
    { instance: "índice-ü-日本", url: "https://indexer.internal/base" },
  ])("round-trips $instance", (member) => {
    expect(decodeIndexerMember(encodeIndexerMember(member))).toEqual(member);
    expect(JSON.parse(encodeIndexerMember(member).toString("utf8"))).toEqual({ v: 1, ...member });
  });

  it.each([
    ["no userData", undefined],
    ["empty userData", Buffer.alloc(0)],
    ["not JSON", Buffer.from("hello {")],
    ["bytes that are not UTF-8", Buffer.from([0x7b, 0xc3, 0x28, 0x7d])],
    ["a JSON string", Buffer.from('"idx-a"')],
    ["JSON null", Buffer.from("null")],
    ["another version", Buffer.from(JSON.stringify({ v: 2, instance: "a", url: "http://a:1" }))],
    ["no version", Buffer.from(JSON.stringify({ instance: "a", url: "http://a:1" }))],
    ["no instance", Buffer.from(JSON.stringify({ v: 1, url: "http://a:1" }))],
    ["an empty instance", Buffer.from(JSON.stringify({ v: 1, instance: "", url: "http://a:1" }))],
    ["a numeric instance", Buffer.from(JSON.stringify({ v: 1, instance: 7, url: "http://a:1" }))],
    ["no url", Buffer.from(JSON.stringify({ v: 1, instance: "a" }))],
    ["a url that is not http", Buffer.from(JSON.stringify({ v: 1, instance: "a", url: "javascript:alert(1)" }))],
    ["a huge instance", Buffer.from(JSON.stringify({ v: 1, instance: "a".repeat(2000), url: "http://a:1" }))],
    ["huge userData", Buffer.from(JSON.stringify({ v: 1, instance: "a", url: "http://a:1", pad: "x".repeat(1_000_000) }))],
    ["deeply nested JSON", Buffer.from(`${"[".repeat(100_000)}${"]".repeat(100_000)}`)],
  ])("skips %s", (_what, userData) => {
    expect(decodeIndexerMember(userData)).toBeNull();
  });
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("indexer group: the assignment", () => {
  const cases = range(5).flatMap((m) => range(12).map((p) => [m + 1, p + 1] as const));
  it.each(cases)("%i members × %i partitions: every partition once, evenly, the same whatever the join order", (memberCount, partitionCount) => {
    const members = range(memberCount).map((i) => ({ memberId: `kafkajs-${(i * 7919) % 101}-${i}`, instance: ["idx-d", "idx-b", "idx-e", "idx-a", "idx-c"][i] as string }));
    const partitions = range(partitionCount);
    const assigned = assignIndexerPartitions(members, partitions);
    const all = [...assigned.values()].flat().sort((a, b) => a - b);
    expect(all).toEqual(partitions);
    const sizes = [...assigned.values()].map((p) => p.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(assigned.size).toBe(memberCount);

    // A restart gives new member ids and another join order: each instance keeps its partitions.
    const byInstance = (a: Map<string, number[]>, ms: typeof members) => Object.fromEntries(ms.map((m) => [m.instance, a.get(m.memberId)]));
    const rejoined = [...members].reverse().map((m, j) => ({ ...m, memberId: `restarted-${j}` }));
    expect(byInstance(assignIndexerPartitions(rejoined, [...partitions].reverse()), rejoined)).toEqual(byInstance(assigned, members));
  });

  it("gives partition p to the p mod N-th instance in id order", () => {
    const assigned = assignIndexerPartitions(
      [
        { memberId: "m1", instance: "idx-c" },
        { memberId: "m2", instance: "idx-a" },
        { memberId: "m3", instance: "idx-b" },
      ],
      range(7),
    );
    expect(Object.fromEntries(assigned)).toEqual({ m2: [0, 3, 6], m3: [1, 4], m1: [2, 5] });
  });

  it("still assigns members without our metadata (after ours), so no partition goes unread", () => {
    const assigned = assignIndexerPartitions(
      [
        { memberId: "a-old", instance: null },
        { memberId: "z-new", instance: "idx-z" },
      ],
      range(4),
    );
    expect(Object.fromEntries(assigned)).toEqual({ "z-new": [0, 2], "a-old": [1, 3] });
  });
});

describe("indexer group: the kafkajs assigner", () => {
  it("advertises the member in its protocol metadata and assigns from the cluster's partitions", async () => {
    const cluster = { findTopicPartitionMetadata: (topic: string) => (topic === "embeddings" ? range(3).map((partitionId) => ({ partitionId })) : []) };
    const make = (instance: string, url: string) => indexerAssigner({ instance, url })({ cluster, groupId: "g", logger: console } as never);
    const a = make("idx-a", "http://127.0.0.1:9102");
    const b = make("idx-b", "http://127.0.0.1:9103");
    const protoB = b.protocol({ topics: ["embeddings"] });
    expect(protoB.name).toBe(INDEXER_ASSIGNER);
    expect(decodeIndexerMember(AssignerProtocol.MemberMetadata.decode(protoB.metadata)?.userData)).toEqual({ instance: "idx-b", url: "http://127.0.0.1:9103" });

    const members = [
      { memberId: "member-2", memberMetadata: protoB.metadata },
      { memberId: "member-1", memberMetadata: a.protocol({ topics: ["embeddings"] }).metadata },
    ];
    const out = await a.assign({ members, topics: ["embeddings"] });
    const decoded = Object.fromEntries(out.map((o) => [o.memberId, AssignerProtocol.MemberAssignment.decode(o.memberAssignment)?.assignment]));
    expect(decoded).toEqual({ "member-1": { embeddings: [0, 2] }, "member-2": { embeddings: [1] } });
  });
});
