/**
 * What the embed-worker's unit-of-work tests give a unit, written once: input
 * messages, its dependencies with an embedding service that answers at once,
 * and a transactional producer that records what each transaction sent (a
 * test double of kafkajs' producer).
 */
import type { KafkaMessage, Producer } from "kafkajs";
import { Batcher } from "@/workers/embed/batcher";
import type { UnitDeps } from "@/workers/embed/unit-of-work";

/** An input message at `offset`: key `k<offset>`, `value`, no headers unless `extra` sets them. */
export const inputMessage = (offset: number, value: string | Buffer | null, extra: Partial<KafkaMessage> = {}): KafkaMessage =>
  ({ key: Buffer.from(`k${offset}`), value: typeof value === "string" ? Buffer.from(value) : value, timestamp: "1700000000000", attributes: 0, offset: String(offset), size: 0, headers: {}, ...extra }) as unknown as KafkaMessage;

/**
 * A unit's dependencies: every text embedded as [0.25, -0.5] by model "m",
 * topics "out" and "dlq", group "g", the broker's default message limit
 * (`outLimit` for "out", as TopicLimits would read them), then `overrides`.
 */
export function unitDeps(overrides: Partial<UnitDeps> = {}, outLimit = 1_048_588): UnitDeps {
  return {
    batcher: new Batcher(async (texts) => texts.map(() => ({ ok: true as const, vector: [0.25, -0.5], model: "m" })), { size: 64, maxWaitMs: 1, maxInFlight: 1 }),
    limits: { maxMessageBytes: async (topic) => (topic === "out" ? outLimit : 1_048_588), invalidate: () => undefined },
    outputTopic: "out",
    dlqTopic: "dlq",
    group: "g",
    normalize: false,
    storeText: true,
    maxTextBytes: 64 * 1024,
    ...overrides,
  };
}

/** A transactional producer that records what each transaction sent; `of(topic)`: the messages sent to one topic. */
export function recordingProducer() {
  const sent: { topic: string; messages: { key?: string | Buffer | null; value: string; headers?: Record<string, unknown> }[] }[] = [];
  const producer = {
    transaction: async () => ({
      sendBatch: async ({ topicMessages }: { topicMessages: typeof sent }) => void sent.push(...topicMessages),
      sendOffsets: async () => undefined,
      commit: async () => undefined,
      abort: async () => undefined,
    }),
  } as unknown as Producer;
  const of = (topic: string) => sent.filter((s) => s.topic === topic).flatMap((s) => s.messages);
  return { producer, sent, of };
}
