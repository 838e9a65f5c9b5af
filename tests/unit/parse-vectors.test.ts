import type { KafkaMessage } from "kafkajs";
import { describe, expect, it } from "vitest";
import { originalBytes } from "@/lib/records/dlq-original";
import { dlqRecordSchema } from "@/lib/records/dlq-record";
import { parseBatch } from "@/workers/parse/parse-batch";
import { caseText, dlqCaseMessage, dlqCases, maxTextBytes, messageValue, parseCases } from "../harness/parse-vectors";
import { embeddingInputSchema, serializeEmbeddingInput } from "@/lib/records/embedding-input";
import { parseRawMessage } from "@/lib/records/parse-raw-message";

/**
 * The shared parse vectors: the Spark job's Python port runs the same file.
 * The file's "format" entry documents each field.
 */
describe("parse vectors (tests/vectors/parse-cases.json)", () => {
  it("has uniquely named cases", () => {
    const names = parseCases().map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThan(50);
  });

  it.each(parseCases().map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const result = parseRawMessage(messageValue(c), c.topic, c.timestamp, {
      maxTextBytes: maxTextBytes(c),
    });
    if ("reason" in c.expect) {
      expect(result).toMatchObject({ ok: false, reason: c.expect.reason });
      if (!result.ok) expect(result.error).toMatch(/^[^\n]+$/);
      return;
    }
    const { text, ...rest } = c.expect.record;
    const want = { text: caseText(text), ...rest };
    expect(result).toEqual({ ok: true, record: want });
    if (!result.ok) return;
    expect(embeddingInputSchema.parse(result.record)).toEqual(want);
    // Byte-exact Kafka value: the file's key order is the contract's.
    expect(serializeEmbeddingInput(result.record)).toBe(c.expect.json ?? JSON.stringify(want));
  });
});

describe("parse DLQ vectors (parse-cases.json dlq_cases): the exact DLQ record, original message included", () => {
  const cases = dlqCases();

  it("covers every way an original is kept: whole UTF-8, base64, a prefix, headers dropped; and the sink limit's edge", () => {
    expect(cases.length).toBeGreaterThan(10);
    const originals = cases.flatMap((c) => ("json" in c.expect ? [dlqRecordSchema.parse(JSON.parse(c.expect.json)).original!] : []));
    expect(originals.some((o) => o.value?.encoding === "base64" && !o.value.truncated)).toBe(true);
    expect(originals.some((o) => o.value?.truncated)).toBe(true);
    expect(cases.some((c) => "sink" in c.expect)).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const message = dlqCaseMessage(c) as unknown as KafkaMessage;
    const out = parseBatch(
      { topic: c.topic, partition: c.partition, messages: [message] },
      { maxTextBytes: maxTextBytes(c), outputMaxMessageBytes: c.sink_max_message_bytes, dlqMaxMessageBytes: c.dlq_max_message_bytes, outputTopic: "embedding_input" },
      c.now_ms,
    );
    if ("sink" in c.expect) {
      expect(out.dead).toEqual([]);
      expect(out.records).toHaveLength(1);
      return;
    }
    expect(out.records).toEqual([]);
    const [dead] = out.dead;
    const key = dead!.key === null ? null : Buffer.from(dead!.key);
    expect(key?.toString("base64") ?? null).toBe(c.expect.key_base64 ?? null);
    expect(dead!.value).toBe(c.expect.json);
    const record = dlqRecordSchema.parse(JSON.parse(dead!.value));
    expect(record).toMatchObject({ stage: "parse", source: { topic: c.topic, partition: c.partition, offset: c.offset } });
    // A whole original is the message's exact bytes: what a redrive re-sends.
    if (record.original!.value && !record.original!.value.truncated) expect(originalBytes(record.original!.value)).toEqual(message.value);
  });
});
