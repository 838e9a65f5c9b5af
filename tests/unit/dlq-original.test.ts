import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DLQ_KEY_MAX_BYTES, dlqBytes, dlqKey, dlqOriginal, originalBytes, serializeDlqWithOriginal } from "@/lib/records/dlq-original";
import { dlqRecordSchema } from "@/lib/records/dlq-record";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const record = {
  text: null,
  topic: "agent.results",
  kafka_ts: 1,
  doc_id: null,
  reason: "too_large" as const,
  error: "over the limit",
  attempts: 1,
  ts: 2,
  model: null,
  source: { topic: "agent.results", partition: 0, offset: "7", timestamp: 1 },
  stage: "parse" as const,
};

describe("the original message in a DLQ record", () => {
  it.each([
    ["UTF-8 text", Buffer.from('{"text":"héllo"}'), "utf8"],
    ["invalid UTF-8", Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), "base64"],
    ["a lone surrogate's CESU bytes", Buffer.from([0xed, 0xa0, 0x80]), "base64"],
    ["empty bytes", Buffer.alloc(0), "utf8"],
  ])("keeps %s byte for byte", (_name, bytes, encoding) => {
    const kept = dlqBytes(bytes);
    expect(kept).toMatchObject({ encoding, size: bytes.length, sha256: sha(bytes), truncated: false });
    expect(originalBytes(kept)?.equals(bytes)).toBe(true);
  });

  it("keeps key, value and every header in order, repeats included", () => {
    const raw = { key: Buffer.from("k"), value: Buffer.from("v"), headers: { a: Buffer.from("1"), b: [Buffer.from("2"), "3"], gone: undefined } };
    const o = dlqOriginal(raw);
    expect(o.key?.data).toBe("k");
    expect(o.headers.map((h) => [h.key, h.value?.data ?? null])).toEqual([["a", "1"], ["b", "2"], ["b", "3"], ["gone", null]]);
    expect(dlqOriginal({ key: null, value: null }).value).toBeNull();
  });

  it("withholds the value on request, keeping its size and digest", () => {
    const value = Buffer.from("personal text");
    const o = dlqOriginal({ key: null, value }, { withholdValue: true });
    expect(o.value).toEqual({ data: null, encoding: "utf8", size: value.length, sha256: sha(value), truncated: false });
    expect(originalBytes(o.value)).toBeUndefined();
  });

  it("fits a record whose original is too large: a base64 prefix, the whole size and sha256", () => {
    // Control characters grow six-fold when JSON-escaped: the case that broke the parse stage.
    const value = Buffer.from("\u0001".repeat(180_000));
    const limit = 64 * 1024;
    const json = serializeDlqWithOriginal(record, { key: Buffer.from("key"), value }, limit);
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(limit);
    const parsed = dlqRecordSchema.parse(JSON.parse(json));
    const v = parsed.original!.value!;
    expect(v).toMatchObject({ encoding: "base64", size: value.length, sha256: sha(value), truncated: true });
    const prefix = Buffer.from(v.data!, "base64");
    expect(prefix.length).toBeGreaterThan(1000);
    expect(value.subarray(0, prefix.length).equals(prefix)).toBe(true);
    expect(originalBytes(v)).toBeUndefined();
  });

  it("keeps a record whole when it fits", () => {
    const value = Buffer.from('{"text":"fine"}');
    const parsed = dlqRecordSchema.parse(JSON.parse(serializeDlqWithOriginal(record, { key: null, value }, 1_000_000)));
    expect(originalBytes(parsed.original!.value)?.equals(value)).toBe(true);
    expect(parsed.stage).toBe("parse");
  });

  it("drops the text, then the headers, before it gives up", () => {
    const headers = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`h${i}`, "x"]));
    const json = serializeDlqWithOriginal({ ...record, text: "t".repeat(5000) }, { key: null, value: Buffer.from("v"), headers }, 4096);
    const parsed = JSON.parse(json) as { text: unknown; original: { headers: unknown[] } };
    expect(parsed.text).toBeNull();
    expect(parsed.original.headers).toEqual([]);
    expect(() => serializeDlqWithOriginal(record, { key: null, value: null }, 50)).toThrow(/does not fit/);
  });

  it("writes a DLQ record under a short key only", () => {
    expect(dlqKey("doc-1")).toBe("doc-1");
    expect(dlqKey(Buffer.alloc(DLQ_KEY_MAX_BYTES + 1))).toBeNull();
    expect(dlqKey(null)).toBeNull();
  });

  it("still reads DLQ entries written before stage and original existed", () => {
    const legacy = Object.fromEntries(Object.entries(record).filter(([k]) => k !== "stage"));
    const parsed = dlqRecordSchema.parse({ ...legacy, source: { topic: "t", partition: 0, offset: "1" } });
    expect([parsed.stage, parsed.original]).toEqual([undefined, undefined]);
  });
});
