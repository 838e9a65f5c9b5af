import { describe, expect, it } from "vitest";
import { toDlqItem, type DlqTopics } from "@/lib/dlq/item";
import { planRedrive } from "@/lib/dlq/redrive";
import { dlqOriginal, type RawMessage } from "@/lib/records/dlq-original";

const topics: DlqTopics = { parse: "agent.results.dlq", embed: "embeddings_dlq", embeddings: "embeddings" };
const opts = { maxReplays: 3, embedInputTopic: "embedding_input" };

const base = {
  text: "hello", topic: "agent.results", kafka_ts: 1700000000, doc_id: "d1", reason: "provider_rejected", error: "HTTP 422",
  attempts: 1, ts: 1700000001, model: "all-MiniLM-L6-v2", source: { topic: "embedding_input", partition: 2, offset: "41" },
};
const parseRecord = (raw: RawMessage, o: { prefixBytes?: number; withholdValue?: boolean } = {}) => ({
  ...base, text: null, doc_id: null, model: null, reason: "invalid_unicode", stage: "parse", source: { topic: "agent.results", partition: 0, offset: "7", timestamp: 1 }, original: dlqOriginal(raw, o),
});
const item = (value: unknown, { topic = topics.embed, offset = "7", replay }: { topic?: string; offset?: string; replay?: string } = {}) =>
  toDlqItem({ kind: "kafka", topic, partition: 0, offset }, value, replay, null, topics);

const raw: RawMessage = {
  key: Buffer.from([0x00, 0xff, 0x10]),
  value: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]),
  headers: { trace: "t1", multi: [Buffer.from("a"), Buffer.from([0xfe])], "x-embedline-replay-count": "1", "x-embedline-redriven-from": "kafka:old:0:1" },
};

describe("redrive plan", () => {
  it("re-sends a whole original as it was: same key, value and headers, the two redrive headers replaced", () => {
    const plan = planRedrive([item(parseRecord(raw), { topic: topics.parse })], opts);
    expect(plan.skipped).toEqual([]);
    const [s] = plan.send;
    expect(s).toMatchObject({ id: "kafka:agent.results.dlq:0:7", topic: "agent.results", how: "original" });
    expect(Buffer.compare(s!.message.key as Buffer, raw.key!)).toBe(0);
    expect(Buffer.compare(s!.message.value as Buffer, raw.value!)).toBe(0);
    const h = s!.message.headers!;
    expect(Object.keys(h)).toEqual(["trace", "multi", "x-embedline-replay-count", "x-embedline-redriven-from"]);
    expect(String(h.trace)).toBe("t1");
    expect((h.multi as Buffer[]).map((b) => b.toString("hex"))).toEqual(["61", "fe"]);
    // The replay count came from the original's header (1): raised to 2.
    expect(h["x-embedline-replay-count"]).toBe("2");
    expect(h["x-embedline-redriven-from"]).toBe("kafka:agent.results.dlq:0:7");
  });

  it.each([
    { name: "no key, no headers", raw: { key: null, value: Buffer.from("plain") }, key: null, value: "plain" },
    { name: "a tombstone (no value)", raw: { key: Buffer.from("k"), value: null }, key: "k", value: null },
    { name: "a header named __proto__", raw: { key: null, value: Buffer.from("v"), headers: { ["__proto__"]: "p" } as RawMessage["headers"] }, key: null, value: "v" },
  ])("re-sends an original with $name", ({ raw: r, key, value }) => {
    const plan = planRedrive([item(parseRecord(r as RawMessage), { topic: topics.parse })], opts);
    const m = plan.send[0]!.message;
    expect(m.key === null ? null : (m.key as Buffer).toString()).toBe(key);
    expect(m.value === null ? null : (m.value as Buffer).toString()).toBe(value);
    expect(Object.keys(m.headers!).filter((k) => !k.startsWith("x-embedline-"))).toEqual(Object.keys(r.headers ?? {}));
  });

  it("an embed-stage entry with its original goes back to embedding_input as the original bytes, not rebuilt", () => {
    const original = dlqOriginal({ key: Buffer.from("d1"), value: Buffer.from('{"text":"hello","doc_id":"d1"}') });
    const plan = planRedrive([item({ ...base, stage: "embed", original })], opts);
    expect(plan.send[0]).toMatchObject({ topic: "embedding_input", how: "original" });
    expect((plan.send[0]!.message.value as Buffer).toString()).toBe('{"text":"hello","doc_id":"d1"}');
  });

  it.each([
    {
      name: "legacy embed entry → embedding_input record", value: base, topic: "embedding_input",
      body: { text: "hello", topic: "agent.results", kafka_ts: 1700000000, doc_id: "d1" },
    },
    {
      name: "legacy entry from the raw topic → a JSON object the parse rules read", value: { ...base, source: { topic: "agent.results", partition: 0, offset: "3" } }, topic: "agent.results",
      body: { text: "hello", doc_id: "d1" },
    },
  ])("rebuilds from text: $name", ({ value, topic, body }) => {
    const plan = planRedrive([item(value, { replay: "1" })], opts);
    const [s] = plan.send;
    expect(s).toMatchObject({ topic, how: "rebuilt" });
    expect(s!.message.key).toBe("d1");
    expect(JSON.parse(String(s!.message.value))).toEqual(body);
    expect(s!.message.headers).toEqual({ "x-embedline-replay-count": "2", "x-embedline-redriven-from": "kafka:embeddings_dlq:0:7" });
  });

  it.each([
    { name: "truncated original value", value: parseRecord({ key: null, value: Buffer.alloc(100, 0x61) }, { prefixBytes: 10 }), detail: /value was truncated \(100 bytes, sha256 [0-9a-f]{64}\)/ },
    { name: "truncated original header", value: parseRecord({ key: null, value: Buffer.from("v"), headers: { big: "x".repeat(50) } }, { prefixBytes: 20 }), detail: /header big was truncated/ },
    { name: "withheld original value", value: parseRecord({ key: null, value: Buffer.from("secret") }, { withholdValue: true }), detail: /withheld/ },
    { name: "legacy entry without text", value: { ...base, text: null, reason: "invalid_json" }, detail: /without text/ },
    { name: "not a DLQ record", value: "garbage", detail: /expected shape/ },
  ])("skips a $name as not_redrivable, saying why", ({ value, detail }) => {
    const plan = planRedrive([item(value)], opts);
    expect(plan.send).toEqual([]);
    expect(plan.skipped).toHaveLength(1);
    expect(plan.skipped[0]).toMatchObject({ id: "kafka:embeddings_dlq:0:7", reason: "not_redrivable" });
    expect(plan.skipped[0]!.detail).toMatch(detail);
  });

  it.each([
    { name: "DLQ message header at the limit", value: base, replay: "3" },
    { name: "original's header at the limit (a parse entry)", value: parseRecord({ key: null, value: Buffer.from("v"), headers: { "x-embedline-replay-count": "3" } }), replay: undefined },
  ])("stops at the replay limit: $name", ({ value, replay }) => {
    const plan = planRedrive([item(value, { replay })], opts);
    expect(plan.send).toEqual([]);
    expect(plan.skipped).toEqual([{ id: "kafka:embeddings_dlq:0:7", reason: "replay_limit", detail: "already redriven 3 times (limit 3)" }]);
  });

  it("plans a mixed selection entry by entry", () => {
    const plan = planRedrive([item(parseRecord(raw), { topic: topics.parse, offset: "1" }), item(base, { offset: "2" }), item("garbage", { offset: "3" })], opts);
    expect(plan.send.map((s) => [s.id, s.how])).toEqual([["kafka:agent.results.dlq:0:1", "original"], ["kafka:embeddings_dlq:0:2", "rebuilt"]]);
    expect(plan.skipped.map((s) => s.id)).toEqual(["kafka:embeddings_dlq:0:3"]);
  });
});
