import type { KafkaMessage } from "kafkajs";
import { describe, expect, it } from "vitest";
import { dlqRecordSchema } from "@/lib/records/dlq-record";
import { embeddingInputSchema } from "@/lib/records/embedding-input";
import { ParseMetrics } from "@/workers/parse/metrics";
import { chunkBySize, parseBatch } from "@/workers/parse/parse-batch";

const message = (offset: number, value: string | null, key: string | null = null, timestamp = "1700000000123"): KafkaMessage =>
  ({ offset: String(offset), key: key === null ? null : Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp, attributes: 0, headers: {} }) as KafkaMessage;

describe("parseBatch", () => {
  it("keys records by doc_id and sends bad input to the DLQ with its reason and source", () => {
    const out = parseBatch(
      {
        topic: "agent.results",
        partition: 2,
        messages: [message(10, '{"id":"a","text":"hello"}'), message(11, "   ", "k1"), message(12, null), message(13, '{"text":"way too long"}')],
      },
      10,
      1_700_000_005_000,
    );
    expect(out.records).toEqual([{ key: "a", value: '{"text":"hello","topic":"agent.results","kafka_ts":1700000000.123,"doc_id":"a"}' }]);
    expect(embeddingInputSchema.parse(JSON.parse(out.records[0]!.value))).toMatchObject({ doc_id: "a" });
    expect(out.deadByReason).toEqual({ empty_text: 2, text_too_large: 1 });
    const dead = out.dead.map((d) => ({ key: d.key?.toString() ?? null, record: dlqRecordSchema.parse(JSON.parse(d.value)) }));
    expect(dead.map((d) => [d.key, d.record.reason, d.record.source.offset])).toEqual([
      ["k1", "empty_text", "11"],
      [null, "empty_text", "12"],
      [null, "text_too_large", "13"],
    ]);
    expect(dead[0]!.record).toEqual({
      text: null,
      topic: "agent.results",
      kafka_ts: 1700000000.123,
      doc_id: null,
      reason: "empty_text",
      error: "text is empty or whitespace only",
      attempts: 1,
      ts: 1700000005,
      model: null,
      source: { topic: "agent.results", partition: 2, offset: "11" },
    });
    // Key order is the contract's (the Spark job writes the same bytes).
    expect(Object.keys(JSON.parse(out.dead[0]!.value))).toEqual(["text", "topic", "kafka_ts", "doc_id", "reason", "error", "attempts", "ts", "model", "source"]);
  });
});

describe("chunkBySize", () => {
  const m = (bytes: number) => ({ key: "k", value: "x".repeat(bytes) });

  it("keeps every produce request under the limit, in order, a too-large message alone", () => {
    const messages = [m(400), m(400), m(400), m(2000), m(10)];
    const chunks = chunkBySize(messages, 1000);
    expect(chunks.map((c) => c.map((x) => x.value.length))).toEqual([[400, 400], [400], [2000], [10]]);
    expect(chunks.flat()).toEqual(messages);
  });

  it("gives no chunk for no messages", () => {
    expect(chunkBySize([], 1000)).toEqual([]);
  });
});

describe("ParseMetrics", () => {
  it("counts committed batches and reports the rate over the last 10 s", () => {
    let now = 1_000_000;
    const metrics = new ParseMetrics(() => now);
    now += 1000;
    metrics.batchCommitted(100, 90, { empty_text: 10 });
    now += 1000;
    metrics.batchCommitted(100, 100, {});
    expect(metrics.snapshot()).toMatchObject({ records_in: 200, records_out: 190, dlq_records: 10, dlq_by_reason: { empty_text: 10 }, batches: 2, last_batch_ts: 1002, rate: 100 });
    now += 20_000;
    expect(metrics.snapshot()).toMatchObject({ records_in: 200, rate: 0 });
  });
});
