import { describe, expect, it } from "vitest";
import { agentResultSchema } from "@/lib/records/agent-result";
import { dlqRecordSchema, DLQ_REASONS } from "@/lib/records/dlq-record";
import { embeddingInputSchema } from "@/lib/records/embedding-input";
import { embeddingRecordSchema, serializeEmbeddingRecord } from "@/lib/records/embedding-record";
import { indexRecordSchema } from "@/lib/records/index-record";
import { kafkaTimestampToSeconds } from "@/lib/records/kafka-timestamp";
import { DEFAULT_SHARDS, shardOf } from "@/lib/records/shard";

const embedded = {
  topic: "agent.results",
  text: "hello",
  doc_id: "d1",
  vector: [0.6, 0.8],
  kafka_ts: 1700000000.123,
  embedded_ts: 1700000001.5,
  model: "all-MiniLM-L6-v2",
  dim: 2,
  normalized: true,
};

const dlq = {
  text: "hello",
  topic: "embedding_input",
  kafka_ts: 1700000000.123,
  doc_id: "d1",
  reason: "provider_rejected",
  error: "embedding service answered 400",
  attempts: 1,
  ts: 1700000002,
  model: "all-MiniLM-L6-v2",
  source: { topic: "embedding_input", partition: 2, offset: "9223372036854775807" },
};

describe("record schemas", () => {
  it("accepts any JSON object or a raw string on agent.results, nothing else", () => {
    expect(agentResultSchema.safeParse({ text: "x", nested: { a: [1] } }).success).toBe(true);
    expect(agentResultSchema.safeParse("plain text").success).toBe(true);
    expect(agentResultSchema.safeParse(42).success).toBe(false);
    expect(agentResultSchema.safeParse(null).success).toBe(false);
    expect(agentResultSchema.safeParse(["a JSON array is a raw string, not fields"]).success).toBe(false);
  });

  it("embedding_input needs non-empty text and doc_id; kafka_ts may be null", () => {
    const ok = { text: "t", topic: "agent.results", kafka_ts: null, doc_id: "d" };
    expect(embeddingInputSchema.parse(ok)).toEqual(ok);
    expect(embeddingInputSchema.safeParse({ ...ok, text: "" }).success).toBe(false);
    expect(embeddingInputSchema.safeParse({ ...ok, doc_id: "" }).success).toBe(false);
    expect(embeddingInputSchema.safeParse({ ...ok, kafka_ts: "1700000000" }).success).toBe(false);
  });

  it("an embedding record never carries an empty, partial or non-finite vector", () => {
    expect(embeddingRecordSchema.parse(embedded)).toEqual(embedded);
    expect(embeddingRecordSchema.safeParse({ ...embedded, vector: [], dim: 0 }).success).toBe(false);
    expect(embeddingRecordSchema.safeParse({ ...embedded, dim: 3 }).success).toBe(false);
    expect(embeddingRecordSchema.safeParse({ ...embedded, vector: [0.6, Number.NaN] }).success).toBe(false);
    expect(embeddingRecordSchema.safeParse({ ...embedded, vector: [0.6, Infinity] }).success).toBe(false);
  });

  it("serializes an embedding record with the contract's key order", () => {
    const shuffled = { normalized: true, dim: 2, model: "all-MiniLM-L6-v2", vector: [0.6, 0.8], doc_id: "d1", text: "hello", topic: null, kafka_ts: null, embedded_ts: 5 };
    expect(serializeEmbeddingRecord(shuffled)).toBe(
      '{"topic":null,"text":"hello","doc_id":"d1","vector":[0.6,0.8],"kafka_ts":null,"embedded_ts":5,"model":"all-MiniLM-L6-v2","dim":2,"normalized":true}',
    );
  });

  it("a DLQ record has a known reason, a one-line error and a decimal offset", () => {
    expect(dlqRecordSchema.parse(dlq)).toEqual(dlq);
    expect(dlqRecordSchema.parse({ ...dlq, text: null, doc_id: null, model: null, reason: "invalid_unicode" }).reason).toBe("invalid_unicode");
    expect(dlqRecordSchema.safeParse({ ...dlq, reason: "something_else" }).success).toBe(false);
    expect(dlqRecordSchema.safeParse({ ...dlq, error: "line one\nline two" }).success).toBe(false);
    expect(dlqRecordSchema.safeParse({ ...dlq, source: { ...dlq.source, offset: 5 } }).success).toBe(false);
    for (const reason of ["invalid_json", "empty_text", "text_too_large", "provider_rejected", "bad_vector", "retries_exhausted", "model_mismatch"]) {
      expect(Object.keys(DLQ_REASONS)).toContain(reason);
    }
  });

  it("an index record keeps the vector, its norm and whether it is unit length", () => {
    const rec = { doc_id: "d1", vector: [3, 4], norm: 5, unit: false, topic: "agent.results", kafka_ts: null, embedded_ts: 1, model: "m" };
    expect(indexRecordSchema.parse(rec)).toEqual(rec);
    expect(indexRecordSchema.safeParse({ ...rec, vector: [] }).success).toBe(false);
    expect(indexRecordSchema.safeParse({ ...rec, norm: -1 }).success).toBe(false);
  });
});

describe("kafkaTimestampToSeconds", () => {
  it.each([
    ["1700000000123", 1700000000.123],
    ["1700000000000", 1700000000],
    ["0", 0],
    [1700000000500, 1700000000.5],
    [1700000000500n, 1700000000.5],
    ["-1", null],
    [-1, null],
    ["", null],
    ["12.5", null],
    [" 1700000000000", null],
    [null, null],
    [undefined, null],
  ] as const)("%s → %s", (ms, seconds) => {
    expect(kafkaTimestampToSeconds(ms)).toBe(seconds);
  });
});

describe("shardOf", () => {
  // Expected values from Python: int.from_bytes(hashlib.sha256(id.encode()).digest(), "big") % n
  it.each([
    ["doc-1", 19, 5, 226320],
    ["a", 27, 1, 695814],
    ["", 21, 1, 597209],
    ["é", 12, 6, 243308],
    ["🚀", 5, 0, 397660],
    ["12345678901234567890", 5, 2, 586680],
  ] as const)("%j → %i of 32, %i of 7, %i of 1000003", (docId, of32, of7, ofBig) => {
    expect(shardOf(docId)).toBe(of32);
    expect(shardOf(docId, 32)).toBe(of32);
    expect(shardOf(docId, 7)).toBe(of7);
    expect(shardOf(docId, 1)).toBe(0);
    expect(shardOf(docId, 1_000_003)).toBe(ofBig);
  });

  it("defaults to 32 shards and spreads ids over all of them", () => {
    expect(DEFAULT_SHARDS).toBe(32);
    const seen = new Set(Array.from({ length: 2000 }, (_, i) => shardOf(`doc-${i}`)));
    expect(seen.size).toBe(32);
  });

  it.each([0, -1, 1.5, Number.NaN])("rejects a shard count of %s", (n) => {
    expect(() => shardOf("d", n)).toThrow(RangeError);
  });
});
