import { createHash } from "node:crypto";
import type { KafkaMessage } from "kafkajs";
import { describe, expect, it } from "vitest";
import { originalBytes } from "@/lib/records/dlq-original";
import { dlqRecordSchema } from "@/lib/records/dlq-record";
import { embeddingInputSchema } from "@/lib/records/embedding-input";
import { DlqTooSmallError } from "@/workers/parse/dlq-record";
import { classifyFailure } from "@/workers/parse/failures";
import { ParseHealth } from "@/workers/parse/health";
import { ParseMetrics } from "@/workers/parse/metrics";
import { parseBatch, type BatchLimits } from "@/workers/parse/parse-batch";

const message = (offset: number, value: string | Buffer | null, key: string | null = null, timestamp = "1700000000123", headers: KafkaMessage["headers"] = {}): KafkaMessage =>
  ({ offset: String(offset), key: key === null ? null : Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp, attributes: 0, headers }) as KafkaMessage;

const limits = (over: Partial<BatchLimits> = {}): BatchLimits => ({ maxTextBytes: 10, outputMaxMessageBytes: 1_048_588, dlqMaxMessageBytes: 1_048_588, outputTopic: "embedding_input", ...over });
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("parseBatch", () => {
  it("keys records by doc_id and sends bad input to the DLQ with its reason, source and original message", () => {
    const out = parseBatch(
      {
        topic: "agent.results",
        partition: 2,
        messages: [message(10, '{"id":"a","text":"hello"}'), message(11, "   ", "k1", "1700000000123", { trace: Buffer.from("t-1") }), message(12, null), message(13, '{"text":"way too long"}')],
      },
      limits(),
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
      source: { topic: "agent.results", partition: 2, offset: "11", timestamp: 1700000000.123 },
      stage: "parse",
      original: {
        key: { data: "k1", encoding: "utf8", size: 2, sha256: sha(Buffer.from("k1")), truncated: false },
        value: { data: "   ", encoding: "utf8", size: 3, sha256: sha(Buffer.from("   ")), truncated: false },
        headers: [{ key: "trace", value: { data: "t-1", encoding: "utf8", size: 3, sha256: sha(Buffer.from("t-1")), truncated: false } }],
      },
    });
    expect(dead[1]!.record.original).toEqual({ key: null, value: null, headers: [] });
    // Key order is the contract's (the Spark job writes the same bytes).
    expect(Object.keys(JSON.parse(out.dead[0]!.value))).toEqual(["text", "topic", "kafka_ts", "doc_id", "reason", "error", "attempts", "ts", "model", "source", "stage", "original"]);
  });

  it("dead-letters as too_large a record that grows past the output topic's limit only once JSON-escaped, keeping a prefix, size and sha256", () => {
    const value = Buffer.from("\u0001".repeat(180_000));
    const limit = 200_000;
    const out = parseBatch({ topic: "agent.results", partition: 0, messages: [message(5, value, "src-key"), message(6, "fine")] }, limits({ maxTextBytes: 1_000_000, outputMaxMessageBytes: limit, dlqMaxMessageBytes: limit }), 1_700_000_005_000);
    expect(out.records.map((r) => JSON.parse(r.value).text)).toEqual(["fine"]);
    expect(out.deadByReason).toEqual({ too_large: 1 });
    const [dead] = out.dead;
    expect(dead!.key).toEqual(Buffer.from("src-key"));
    // Fits alone under the DLQ topic's limit, key and framing included.
    expect(Buffer.byteLength(dead!.value) + 7 + 61 + 36).toBeLessThanOrEqual(limit);
    const rec = dlqRecordSchema.parse(JSON.parse(dead!.value));
    expect(rec.error).toMatch(/^the embedding_input record makes a \d+-byte record batch .* over max\.message\.bytes 200000 of embedding_input$/);
    expect(rec.original!.value).toMatchObject({ encoding: "base64", size: 180_000, sha256: sha(value), truncated: true });
    expect(value.subarray(0, Buffer.from(rec.original!.value!.data!, "base64").length).equals(Buffer.from(rec.original!.value!.data!, "base64"))).toBe(true);
    expect(originalBytes(rec.original!.key)).toEqual(Buffer.from("src-key"));
  });

  it("passes a long doc_id on when the record fits, and keeps invalid UTF-8 whole as base64", () => {
    const id = "d".repeat(3000);
    const bad = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const out = parseBatch({ topic: "t", partition: 0, messages: [message(1, JSON.stringify({ id, text: "x" })), message(2, bad)] }, limits(), 0);
    expect(out.records.map((r) => r.key)).toEqual([id]);
    const rec = dlqRecordSchema.parse(JSON.parse(out.dead[0]!.value));
    expect(rec.reason).toBe("invalid_unicode");
    expect(originalBytes(rec.original!.value)).toEqual(bad);
  });

  it("writes a DLQ record under no key when the source key is too long for one (the key stays in the original)", () => {
    const key = "k".repeat(5000);
    const out = parseBatch({ topic: "t", partition: 0, messages: [message(1, " ", key)] }, limits(), 0);
    expect(out.dead[0]!.key).toBeNull();
    expect(originalBytes(dlqRecordSchema.parse(JSON.parse(out.dead[0]!.value)).original!.key)?.toString()).toBe(key);
  });

  it("refuses to plan when the DLQ topic cannot take any DLQ record", () => {
    expect(() => parseBatch({ topic: "t", partition: 0, messages: [message(1, " ")] }, limits({ dlqMaxMessageBytes: 300 }), 0)).toThrow(DlqTooSmallError);
  });
});

describe("classifyFailure", () => {
  const protocol = (type: string, retriable = false) => Object.assign(new Error(type), { name: "KafkaJSProtocolError", type, retriable });
  it.each([
    ["a size refusal", protocol("MESSAGE_TOO_LARGE"), "too_large"],
    ["a size refusal wrapped by kafkajs' retrier", Object.assign(new Error("retries"), { name: "KafkaJSNumberOfRetriesExceeded", originalError: protocol("RECORD_LIST_TOO_LARGE") }), "too_large"],
    ["a rebalance", protocol("REBALANCE_IN_PROGRESS", true), "rebalance"],
    ["fencing", protocol("PRODUCER_FENCED"), "producer"],
    ["an unreachable broker", Object.assign(new Error("Connection error: connect ECONNREFUSED"), { name: "KafkaJSConnectionError" }), "transient"],
    ["retries exhausted on a timeout", Object.assign(new Error("retries"), { name: "KafkaJSNumberOfRetriesExceeded", originalError: Object.assign(new Error("timed out"), { name: "KafkaJSRequestTimeoutError" }) }), "transient"],
    ["a coordinator moving", protocol("NOT_COORDINATOR", true), "transient"],
    ["a DLQ topic too small", new DlqTooSmallError(100, new Error("x")), "dlq_too_small"],
    ["an invalid record", protocol("INVALID_RECORD"), "unknown"],
    ["a bug", new TypeError("x is undefined"), "unknown"],
  ])("%s", (_name, err, kind) => {
    expect(classifyFailure(err)).toBe(kind);
  });
});

describe("ParseHealth", () => {
  it("is degraded (HTTP 200) while a partition does not advance, with its offset and reason, and ok again once it does", () => {
    let now = 1_000_000;
    const health = new ParseHealth(() => now);
    expect(health.httpStatus()).toBe(503);
    health.process = "ok";
    expect(health.report()).toEqual({ status: "ok", partitions: [] });
    health.stall("agent.results", 1, "42", "Kafka unavailable; waiting");
    now += 5000;
    health.stall("agent.results", 1, "42", "transaction failed for an unclassified reason; retrying (1/3): x");
    expect(health.report()).toEqual({ status: "degraded", partitions: [{ topic: "agent.results", partition: 1, offset: "42", reason: "transaction failed for an unclassified reason; retrying (1/3): x", since_ts: 1000 }] });
    expect(health.httpStatus()).toBe(200);
    health.advance("agent.results", 1);
    expect(health.report().status).toBe("ok");
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
