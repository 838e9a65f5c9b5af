import type { KafkaMessage, Producer } from "kafkajs";
import { describe, expect, it } from "vitest";
import { Batcher } from "../../workers/embed/batcher";
import { commitUnit, transformUnit, type UnitDeps } from "../../workers/embed/unit-of-work";

const message = (offset: number, value: string | null, headers?: KafkaMessage["headers"]): KafkaMessage =>
  ({ key: null, value: value === null ? null : Buffer.from(value), timestamp: "1700000000000", attributes: 0, offset: String(offset), size: 0, headers }) as KafkaMessage;

function deps(writes: unknown[][] = []): UnitDeps {
  const batcher = new Batcher(async (texts) => texts.map(() => ({ ok: true as const, vector: [1, 0], model: "m" })), { size: 64, maxWaitMs: 1, maxInFlight: 1 });
  return {
    batcher,
    reddb: { sink: { write: async (_records: unknown, dlq: unknown[]) => (writes.push(dlq), []) } as never, writeWithRetry: (fn) => fn() },
    // The broker's default limit, as TopicLimits would read it.
    limits: { maxMessageBytes: async () => 1_048_588, invalidate: () => undefined },
    outputTopic: "out",
    dlqTopic: "dlq",
    group: "g",
    normalize: false,
    storeText: true,
    maxTextBytes: 100,
  };
}

/** A transactional producer that records what each transaction sent. */
function recordingProducer() {
  const sent: { topic: string; messages: { key?: string | null; value: string; headers?: Record<string, unknown> }[] }[] = [];
  const producer = {
    transaction: async () => ({
      sendBatch: async ({ topicMessages }: { topicMessages: typeof sent }) => void sent.push(...topicMessages),
      sendOffsets: async () => undefined,
      commit: async () => undefined,
      abort: async () => undefined,
    }),
  } as unknown as Producer;
  return { producer, sent };
}

describe("embed-worker DLQ records keep a redriven record's replay count", () => {
  it("copies x-embedline-replay-count from the input onto the DLQ message, and into RedDB's DLQ record", async () => {
    const reddbDlq: unknown[][] = [];
    const d = deps(reddbDlq);
    const result = await transformUnit(d, "in", 0, [
      message(0, JSON.stringify({ text: "", doc_id: "redriven-twice" }), { "x-embedline-replay-count": Buffer.from("2"), "x-other": "not carried" }),
      message(1, JSON.stringify({ text: "fine", doc_id: "ok", topic: "t", kafka_ts: 1 }), { "x-embedline-replay-count": "1" }),
      message(2, "{not json"),
    ]);
    expect(result.rows.map((r) => r.doc_id)).toEqual(["ok"]);
    expect(result.dlq.map((x) => x.record.reason)).toEqual(["empty_text", "invalid_json"]);

    const { producer, sent } = recordingProducer();
    await commitUnit(d, producer, { topic: "in", partition: 0, firstOffset: "0", lastOffset: "2" }, result, () => true);
    const dlq = sent.filter((s) => s.topic === "dlq").flatMap((s) => s.messages);
    expect(dlq).toHaveLength(2);
    expect(String(dlq[0]!.headers?.["x-embedline-replay-count"])).toBe("2");
    expect(dlq[0]!.headers).not.toHaveProperty("x-other");
    // A first failure carries no replay count at all (the console reads that as 0).
    expect(dlq[1]!.headers ?? {}).toEqual({});
    // Embedding records never carry it.
    expect(sent.filter((s) => s.topic === "out").flatMap((s) => s.messages).every((m) => m.headers === undefined)).toBe(true);

    expect(reddbDlq[0]).toEqual([expect.objectContaining({ reason: "empty_text", replay_count: 2 }), expect.not.objectContaining({ replay_count: expect.anything() })]);
  });
});
