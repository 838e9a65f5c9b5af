import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

// kafkajs's producer send path as patched by patches/kafkajs+2.2.4.patch (postinstall).
const require = createRequire(import.meta.url);
type Produce = (req: { topicData: { topic: string; partitions: { partition: number; messages: { value: string }[] }[] }[] }) => Promise<unknown>;
const createSendMessages = require("kafkajs/src/producer/sendMessages") as (deps: Record<string, unknown>) => (req: Record<string, unknown>) => Promise<{ topicName: string; partition: number }[]>;
const createRetry = require("kafkajs/src/retry") as (opts: Record<string, number>) => unknown;
const { KafkaJSConnectionError } = require("kafkajs/src/errors") as { KafkaJSConnectionError: new (message: string, opts?: Record<string, unknown>) => Error };

/**
 * A three-partition topic on brokers 1 and 2 (partition p led by `leaders[p]`), as
 * kafkajs's cluster object answers for it. `refreshMetadata` makes `after` the
 * leaders: what the controller did once broker 2 died.
 */
function fakeCluster(leaders: number[], after: number[], brokers: Record<number, { nodeId: number; produce: Produce }>) {
  let current = leaders;
  return {
    targetTopics: new Set<string>(),
    addMultipleTargetTopics: async () => undefined,
    refreshMetadataIfNecessary: async () => undefined,
    refreshMetadata: async () => void (current = after),
    isConnected: () => true,
    removeBroker: () => undefined,
    findTopicPartitionMetadata: () => current.map((leader, partitionId) => ({ partitionId, leader })),
    findLeaderForPartitions: (_topic: string, partitions: string[]) => {
      const out: Record<number, number[]> = {};
      for (const p of partitions) (out[current[Number(p)]!] ??= []).push(Number(p));
      return out;
    },
    findBroker: async ({ nodeId }: { nodeId: string }) => brokers[Number(nodeId)]!,
  };
}

const eosManager = {
  acquireBrokerLock: async () => undefined,
  releaseBrokerLock: async () => undefined,
  isTransactional: () => false,
  getSequence: () => 0,
  updateSequence: () => undefined,
  getProducerId: () => -1,
  getProducerEpoch: () => 0,
};
const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe("kafkajs send when a partition's leader dies mid-send (patched)", () => {
  it.each([
    // [leaders before, leaders after broker 2 died]: the dead broker's partitions move to broker 1, which had answered already.
    ["p1 moves to the broker that answered for p0 and p2", [1, 2, 1], [1, 1, 1]],
    ["p1 and p2 move to the broker that answered for p0", [1, 2, 2], [1, 1, 1]],
  ])("%s: every message reaches a live leader exactly once", async (_what, before, after) => {
    const written: { broker: number; partition: number; value: string }[] = [];
    let broker2Calls = 0;
    const broker = (nodeId: number): { nodeId: number; produce: Produce } => ({
      nodeId,
      produce: async ({ topicData }) => {
        if (nodeId === 2) {
          broker2Calls++;
          throw new KafkaJSConnectionError("Connection error: connect ECONNREFUSED", { broker: "127.0.0.1:2" });
        }
        for (const t of topicData) for (const p of t.partitions) for (const m of p.messages) written.push({ broker: nodeId, partition: p.partition, value: m.value });
        return { topics: topicData.map((t) => ({ topicName: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: "0" })) })) };
      },
    });
    const brokers = { 1: broker(1), 2: broker(2) };
    const sendMessages = createSendMessages({
      logger,
      cluster: fakeCluster(before, after, brokers),
      partitioner: ({ message }: { message: { partition: number } }) => message.partition,
      eosManager,
      retrier: createRetry({ retries: 3, initialRetryTime: 1, maxRetryTime: 5 }),
    });
    const messages = [0, 1, 2, 0, 1, 2].map((partition, i) => ({ partition, value: `m${i}` }));

    const acks = await sendMessages({ acks: -1, timeout: 1000, topicMessages: [{ topic: "t", messages }] });

    expect(broker2Calls).toBe(1);
    expect(written.map((w) => w.value).sort()).toEqual(messages.map((m) => m.value).sort());
    expect(written.every((w) => w.broker === 1 && messages.find((m) => m.value === w.value)!.partition === w.partition)).toBe(true);
    expect(acks.map((a) => a.partition).sort()).toEqual([0, 1, 2]);
  });
});
