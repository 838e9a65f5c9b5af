import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

// kafkajs's consumer group as patched by patches/kafkajs+2.2.4.patch (postinstall): a
// consumer whose group coordinator died finds the new one and goes on as the same member.
const require = createRequire(import.meta.url);
const ConsumerGroup = require("kafkajs/src/consumer/consumerGroup") as new (opts: Record<string, unknown>) => {
  coordinator: FakeBroker;
  memberId: string | null;
  generationId: number | null;
  heartbeat(opts: { interval: number }): Promise<void>;
  leave(): Promise<void>;
  recoverFromFetch(e: Error): Promise<void>;
  joinAndSync(): Promise<void>;
  seekOffsets(topicPartitions: { topic: string; partitions: number[] }[]): Promise<void>;
  seekOffset: Map<string, unknown> & { set(topic: string, partition: number, offset: string): void; has(topic: string, partition: number): boolean };
  offsetManager: unknown;
};
const OffsetManager = require("kafkajs/src/consumer/offsetManager") as new (opts: Record<string, unknown>) => {
  commitOffsets(offsets: { topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }): Promise<void>;
};
const { KafkaJSConnectionError, KafkaJSRequestTimeoutError } = require("kafkajs/src/errors") as Record<"KafkaJSConnectionError" | "KafkaJSRequestTimeoutError", new (...args: unknown[]) => Error>;
const createConsumer = require("kafkajs/src/consumer") as (opts: Record<string, unknown>) => {
  subscribe(opts: { topics: string[] }): Promise<void>;
  run(opts: { eachBatch: () => Promise<void> }): Promise<void>;
  disconnect(): Promise<void>;
};
const { createErrorFromCode } = require("kafkajs/src/protocol/error") as { createErrorFromCode(code: number): Error };

type Call = { broker: number; api: string; payload: Record<string, unknown> };
type FakeBroker = { nodeId: number; isConnected(): boolean } & Record<string, unknown>;

/** Errors of a request to a coordinator that is gone; the protocol ones by their Kafka error codes. */
const GONE: [string, () => Error][] = [
  ["connection refused (the broker process died)", () => new KafkaJSConnectionError("Connection error: connect ECONNREFUSED 127.0.0.1:9092", { broker: "127.0.0.1:9092", code: "ECONNREFUSED" })],
  ["connection closed by the server mid-request", () => new KafkaJSConnectionError("Connection closed by the server", { broker: "127.0.0.1:9092" })],
  ["request timeout (an unreachable broker)", () => new KafkaJSRequestTimeoutError("Request heartbeat(key: 12, version: 3) timed out", { broker: "127.0.0.1:9092" })],
  ["NOT_COORDINATOR (16: the group moved)", () => createErrorFromCode(16)],
  ["COORDINATOR_NOT_AVAILABLE (15)", () => createErrorFromCode(15)],
];

/**
 * Broker 1 coordinated the group and is gone (every request fails with `error`); broker
 * 2 coordinates it now, and FindCoordinator says so.
 */
function twoCoordinators(error: () => Error) {
  const calls: Call[] = [];
  let finds = 0;
  const broker = (nodeId: number, alive: boolean): FakeBroker => {
    const api = (name: string) => async (payload: Record<string, unknown>) => {
      calls.push({ broker: nodeId, api: name, payload });
      if (!alive) throw error();
      return name === "offsetFetch" ? { responses: [] } : {};
    };
    // Both look connected: the client learns of the death from a failed request.
    return { nodeId, isConnected: () => true, heartbeat: api("heartbeat"), leaveGroup: api("leaveGroup"), offsetCommit: api("offsetCommit"), offsetFetch: api("offsetFetch") };
  };
  const dead = broker(1, false);
  const live = broker(2, true);
  const cluster = {
    findGroupCoordinator: async () => (finds++, live),
    findBroker: async ({ nodeId }: { nodeId: number }) => (nodeId === 1 ? dead : live),
    refreshMetadata: async () => undefined,
    committedOffsets: () => committed,
  };
  const committed: Record<string, Record<string, string>> = {};
  return { calls, dead, live, cluster, finds: () => finds };
}

const logger = { namespace: () => logger, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const emitter = { emit: () => undefined };

function memberOf(cluster: unknown, coordinator: FakeBroker) {
  const group = new ConsumerGroup({ cluster, groupId: "g", topics: ["t"], logger, instrumentationEmitter: emitter, retry: { retries: 0 }, assigners: [] });
  group.coordinator = coordinator;
  group.memberId = "member-1";
  group.generationId = 7;
  return group;
}

describe("kafkajs consumer whose group coordinator died (patched)", () => {
  it.each(GONE)("%s: the heartbeat finds the new coordinator and goes on as the same member", async (_what, error) => {
    const { calls, dead, live, cluster, finds } = twoCoordinators(error);
    const group = memberOf(cluster, dead);

    await group.heartbeat({ interval: 0 });

    expect(finds()).toBe(1);
    expect(group.coordinator).toBe(live);
    expect(calls.map((c) => [c.broker, c.api])).toEqual([[1, "heartbeat"], [2, "heartbeat"]]);
    // Same member, same generation: no rejoin, nothing to wait out.
    expect(calls[1]!.payload).toEqual({ groupId: "g", memberId: "member-1", groupGenerationId: 7 });
    expect(group.memberId).toBe("member-1");

    // Later heartbeats go straight to the new coordinator.
    await group.heartbeat({ interval: 0 });
    expect(calls.slice(2).map((c) => c.broker)).toEqual([2]);
    expect(finds()).toBe(1);
  });

  it.each(GONE)("%s, and FindCoordinator still names the dead broker (election not over): the heartbeat is skipped, not thrown, and the next one finds the new coordinator", async (_what, error) => {
    const { calls, dead, live, cluster } = twoCoordinators(error);
    let electionOver = false;
    cluster.findGroupCoordinator = async () => (electionOver ? live : dead);
    const group = memberOf(cluster, dead);

    await group.heartbeat({ interval: 0 });
    expect(calls.map((c) => [c.broker, c.api])).toEqual([[1, "heartbeat"], [1, "heartbeat"]]);

    electionOver = true;
    await group.heartbeat({ interval: 0 });
    expect(calls.slice(2).map((c) => [c.broker, c.api])).toEqual([[2, "heartbeat"]]);
    expect(calls[2]!.payload).toEqual({ groupId: "g", memberId: "member-1", groupGenerationId: 7 });
    expect(group.coordinator).toBe(live);
  });

  it.each(GONE.filter(([what]) => !what.startsWith("NOT_COORDINATOR") && !what.startsWith("COORDINATOR_NOT")))("%s from a partition leader: the fetch reads the metadata again instead of failing (no retry used up)", async (_what, error) => {
    let refreshes = 0;
    const group = memberOf({ refreshMetadata: async () => void refreshes++ }, {} as FakeBroker);

    await expect(group.recoverFromFetch(error())).resolves.toBeUndefined();
    expect(refreshes).toBe(1);
  });

  it.each(GONE)("%s while seeking (an auto-commit seek is an offset commit): the seek stays pending for the next fetch", async (_what, error) => {
    const seeks: unknown[] = [];
    let refuse = true;
    const group = memberOf({}, {} as FakeBroker);
    group.offsetManager = {
      seek: async (entry: unknown) => {
        seeks.push(entry);
        if (refuse) throw error();
      },
      resolveOffsets: async () => undefined,
    };
    group.seekOffset.set("t", 0, "42");

    await expect(group.seekOffsets([{ topic: "t", partitions: [0] }])).rejects.toThrow();
    expect(group.seekOffset.has("t", 0)).toBe(true);

    refuse = false;
    await group.seekOffsets([{ topic: "t", partitions: [0] }]);
    expect(seeks).toEqual([{ topic: "t", partition: 0, offset: "42" }, { topic: "t", partition: 0, offset: "42" }]);
    expect(group.seekOffset.has("t", 0)).toBe(false);
  });

  it.each(GONE)("%s at JoinGroup: the join is retried with the coordinator found again, not a crash", async (_what, error) => {
    const { MemberAssignment } = require("kafkajs/src/consumer/assignerProtocol") as { MemberAssignment: { encode(a: { version: number; assignment: Record<string, number[]> }): Buffer } };
    const joins: number[] = [];
    const coordinator = (nodeId: number, alive: boolean) => ({
      nodeId,
      isConnected: () => true,
      joinGroup: async () => {
        joins.push(nodeId);
        if (!alive) throw error();
        return { generationId: 8, leaderId: "another-member", memberId: "member-1", members: [], groupProtocol: "RoundRobinAssigner" };
      },
      syncGroup: async () => ({ memberAssignment: MemberAssignment.encode({ version: 0, assignment: { t: [0] } }) }),
    });
    const found = [coordinator(1, false), coordinator(2, true)];
    const cluster = {
      findGroupCoordinator: async () => found.shift() ?? coordinator(2, true),
      findTopicPartitionMetadata: () => [{ partitionId: 0, leader: 2 }],
      committedOffsets: () => ({}),
    };
    const group = new ConsumerGroup({ cluster, groupId: "g", topics: ["t"], topicConfigurations: {}, logger, instrumentationEmitter: emitter, retry: { retries: 2, initialRetryTime: 1, maxRetryTime: 5 }, assigners: [] });

    await group.joinAndSync();

    expect(joins).toEqual([1, 2]);
    expect(group.memberId).toBe("member-1");
    expect(group.generationId).toBe(8);
  });

  it.each(GONE)("%s: leaving goes through the new coordinator", async (_what, error) => {
    const { calls, dead, cluster } = twoCoordinators(error);
    const group = memberOf(cluster, dead);

    await group.leave();

    expect(calls.map((c) => [c.broker, c.api])).toEqual([[1, "leaveGroup"], [2, "leaveGroup"]]);
    expect(calls[1]!.payload).toEqual({ groupId: "g", memberId: "member-1" });
    expect(group.memberId).toBeNull();
  });

  it.each([
    ["REBALANCE_IN_PROGRESS (27)", 27],
    ["UNKNOWN_MEMBER_ID (25)", 25],
    ["ILLEGAL_GENERATION (22)", 22],
  ])("%s from a live coordinator is the caller's to handle: no coordinator search", async (_what, code) => {
    const { calls, dead, cluster, finds } = twoCoordinators(() => createErrorFromCode(code));
    const group = memberOf(cluster, dead);

    await expect(group.heartbeat({ interval: 0 })).rejects.toMatchObject({ code });

    expect(finds()).toBe(0);
    expect(calls).toHaveLength(1);
  });

  it.each(GONE)("%s: an offset commit after it fails goes to the new coordinator", async (_what, error) => {
    const { calls, dead, cluster } = twoCoordinators(error);
    const offsets = new OffsetManager({ cluster, coordinator: dead, memberAssignment: { t: [0] }, topicConfigurations: {}, instrumentationEmitter: emitter, groupId: "g", generationId: 7, memberId: "member-1" });
    const commit = { topics: [{ topic: "t", partitions: [{ partition: 0, offset: "42" }] }] };

    // The attempt that meets the dead coordinator fails (the runner's retrier retries it); the retry must reach broker 2.
    await expect(offsets.commitOffsets(commit)).rejects.toThrow();
    await offsets.commitOffsets(commit);

    expect(calls.map((c) => [c.broker, c.api])).toEqual([[1, "offsetCommit"], [2, "offsetCommit"]]);
    expect(calls[1]!.payload).toMatchObject({ groupId: "g", memberId: "member-1", groupGenerationId: 7 });
  });
});

describe("kafkajs consumer restarted after a crash while its coordinator was unreachable (patched)", () => {
  it("rejoins as the member it was, so the group does not wait for that member to expire", async () => {
    const joinedAs: string[] = [];
    let secondJoin!: () => void;
    const rejoined = new Promise<void>((resolve) => (secondJoin = resolve));
    const unreachable = () => new KafkaJSConnectionError("Connection error: connect ECONNREFUSED 127.0.0.1:9092", { broker: "127.0.0.1:9092", code: "ECONNREFUSED" });
    const coordinator = {
      nodeId: 1,
      isConnected: () => true,
      joinGroup: async ({ memberId }: { memberId: string }) => {
        joinedAs.push(memberId);
        if (joinedAs.length === 2) secondJoin();
        return { generationId: 1, leaderId: "another-member", memberId: "member-1", members: [], groupProtocol: "RoundRobinAssigner" };
      },
      // The coordinator dies between join and sync: the consumer crashes, cannot leave, and
      // kafkajs restarts it. The second sync fails for good (GROUP_AUTHORIZATION_FAILED), so
      // the consumer stops there instead of restarting again.
      syncGroup: async () => {
        throw joinedAs.length === 1 ? unreachable() : createErrorFromCode(30);
      },
      leaveGroup: async () => {
        throw unreachable();
      },
    };
    const cluster = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      refreshMetadata: async () => undefined,
      refreshMetadataIfNecessary: async () => undefined,
      addMultipleTargetTopics: async () => undefined,
      removeBroker: () => undefined,
      findGroupCoordinator: async () => coordinator,
      findTopicPartitionMetadata: () => [{ partitionId: 0, leader: 1 }],
      committedOffsets: () => ({}),
    };
    const consumer = createConsumer({ cluster, groupId: "g", logger, retry: { retries: 0, initialRetryTime: 1 } });
    await consumer.subscribe({ topics: ["t"] });

    await consumer.run({ eachBatch: async () => undefined });
    await rejoined;
    await consumer.disconnect();

    expect(joinedAs).toEqual(["", "member-1"]);
  });
});
