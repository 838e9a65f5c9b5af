import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { embeddingInputSchema, serializeEmbeddingInput } from "@/lib/records/embedding-input";
import { parseRawMessage } from "@/lib/records/parse-raw-message";

/**
 * The shared parse vectors: the Spark job's Python port runs the same file.
 * The file's "format" entry documents each field.
 */
interface Generate {
  prefix?: string;
  repeat: string;
  count: number;
  suffix?: string;
}
interface Case {
  name: string;
  value?: string | null;
  value_json?: unknown;
  value_base64?: string;
  value_generate?: Generate;
  topic: string;
  timestamp: string | null;
  max_text_bytes?: number;
  expect:
    | { record: { text: string | Generate; topic: string; kafka_ts: number | null; doc_id: string }; json?: string }
    | { reason: string };
}

const file = JSON.parse(readFileSync(path.join(__dirname, "../vectors/parse-cases.json"), "utf8")) as {
  defaults: { max_text_bytes: number };
  cases: Case[];
};

const generate = (g: Generate) => (g.prefix ?? "") + g.repeat.repeat(g.count) + (g.suffix ?? "");

function messageValue(c: Case): Buffer | null {
  if (c.value_json !== undefined) return Buffer.from(JSON.stringify(c.value_json), "utf8");
  if (c.value_base64 !== undefined) return Buffer.from(c.value_base64, "base64");
  if (c.value_generate !== undefined) return Buffer.from(generate(c.value_generate), "utf8");
  return c.value === null || c.value === undefined ? null : Buffer.from(c.value, "utf8");
}

describe("parse vectors (tests/vectors/parse-cases.json)", () => {
  it("has uniquely named cases", () => {
    const names = file.cases.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThan(50);
  });

  it.each(file.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const result = parseRawMessage(messageValue(c), c.topic, c.timestamp, {
      maxTextBytes: c.max_text_bytes ?? file.defaults.max_text_bytes,
    });
    if ("reason" in c.expect) {
      expect(result).toMatchObject({ ok: false, reason: c.expect.reason });
      if (!result.ok) expect(result.error).toMatch(/^[^\n]+$/);
      return;
    }
    const { text, ...rest } = c.expect.record;
    const want = { text: typeof text === "string" ? text : generate(text), ...rest };
    expect(result).toEqual({ ok: true, record: want });
    if (!result.ok) return;
    expect(embeddingInputSchema.parse(result.record)).toEqual(want);
    // Byte-exact Kafka value: the file's key order is the contract's.
    expect(serializeEmbeddingInput(result.record)).toBe(c.expect.json ?? JSON.stringify(want));
  });
});
