/**
 * How the topic browser shows a record (lib/topics/present.ts): bytes as text
 * only when they are UTF-8 (a cut never splits a character), vectors
 * summarised from 16 numbers on, and the links between stages.
 */
import { describe, expect, it } from "vitest";
import { headerList, linksOf, presentRecord, showBytes, summariseVectors, VALUE_PREVIEW_BYTES, type LinkTargets } from "@/lib/topics/present";
import type { CatalogTopic } from "@/lib/topics/catalog";

const to: LinkTargets = { embedInput: "embedding_input", embeddings: "embeddings", browsable: new Set(["agent.results", "embedding_input", "embeddings", "embeddings_dlq"]) };
const topic = (role: CatalogTopic["role"], name: string): CatalogTopic => ({ name, role, writer: "w" });

describe("showBytes", () => {
  it.each([
    { what: "UTF-8 text", bytes: Buffer.from("héllo"), want: { encoding: "utf8", data: "héllo", size: 6, truncated: false } },
    { what: "not UTF-8", bytes: Buffer.from([0xc3, 0x28]), want: { encoding: "base64", data: "wyg=", size: 2, truncated: false } },
    { what: "empty", bytes: Buffer.alloc(0), want: { encoding: "utf8", data: "", size: 0, truncated: false } },
  ])("$what", ({ bytes, want }) => expect(showBytes(bytes)).toEqual(want));

  it("cuts a long value on a character boundary, still as text", () => {
    // "é" is two bytes: a 3-byte cut of "aéé" would end inside the second one.
    expect(showBytes(Buffer.from("aéé"), 4)).toEqual({ encoding: "utf8", data: "aé", size: 5, truncated: true });
  });
});

it("lists a repeated header once per value, in order; a null value stays null", () => {
  expect(headerList({ a: [Buffer.from("1"), Buffer.from("2")], b: undefined }).map((h) => [h.key, h.value?.data ?? null])).toEqual([["a", "1"], ["a", "2"], ["b", null]]);
});

it("summarises numeric arrays of 16 or more, wherever they sit, and leaves shorter ones", () => {
  const v = Array.from({ length: 16 }, () => 0.25);
  expect(summariseVectors({ vector: v, nested: [{ e: v }], short: v.slice(1), mixed: [...v, "x"] })).toEqual({
    vector: { $vector: { dim: 16, norm: 1, head: v.slice(0, 8) } },
    nested: [{ e: { $vector: { dim: 16, norm: 1, head: v.slice(0, 8) } } }],
    short: v.slice(1),
    mixed: [...v, "x"],
  });
});

describe("links between stages", () => {
  it("an embedding: its source record by key and the raw message's time, and more like this", () => {
    expect(linksOf(topic("embeddings", "embeddings"), { doc_id: "d 1&x", kafka_ts: 1767225600.123 }, to)).toEqual([
      { rel: "source", label: "source on embedding_input", href: "/topics/embedding_input?key=d+1%26x&timestamp=1767225600123" },
      { rel: "similar", label: "more like this", href: "/search?doc_id=d+1%26x" },
    ]);
  });

  it("an embedding_input record: its embedding and its raw message", () => {
    expect(linksOf(topic("embedding_input", "embedding_input"), { doc_id: "d", topic: "agent.results", kafka_ts: 10 }, to).map((l) => [l.rel, l.href])).toEqual([
      ["embedding", "/topics/embeddings?key=d&timestamp=10000"],
      ["source", "/topics/agent.results?timestamp=10000&limit=1"],
    ]);
  });

  it("a DLQ entry: its original by partition and offset, only when the browser shows that topic", () => {
    const entry = (t: string) => ({ source: { topic: t, partition: 2, offset: "41" } });
    expect(linksOf(topic("embed_dlq", "embeddings_dlq"), entry("embedding_input"), to)).toEqual([{ rel: "original", label: "original on embedding_input", href: "/topics/embedding_input?partition=2&offset=41&limit=1" }]);
    expect(linksOf(topic("embed_dlq", "embeddings_dlq"), entry("someone.elses"), to)).toEqual([]);
    expect(linksOf(topic("embed_dlq", "embeddings_dlq"), { source: { topic: "embedding_input", partition: 2, offset: "-1" } }, to)).toEqual([]);
  });

  it("no links from a value that is not a JSON object", () => {
    expect(linksOf(topic("embeddings", "embeddings"), ["doc_id"], to)).toEqual([]);
    expect(linksOf(topic("embeddings", "embeddings"), "x", to)).toEqual([]);
  });
});

describe("presentRecord", () => {
  const record = (value: Buffer) => ({ partition: 0, offset: "7", timestamp: 1, key: Buffer.from("k"), value, headers: {} });
  it("a JSON value comes parsed (data left out), a truncated one as a prefix without json", () => {
    const json = presentRecord(record(Buffer.from('{"doc_id":"d","text":"t"}')), topic("ingest", "agent.results"), to, { vectors: "summary", full: false });
    expect(json).toMatchObject({ json: { doc_id: "d", text: "t" }, value: { encoding: "utf8", data: null } });
    const big = presentRecord(record(Buffer.from(JSON.stringify({ t: "x".repeat(VALUE_PREVIEW_BYTES) }))), topic("ingest", "agent.results"), to, { vectors: "summary", full: false });
    expect(big.json).toBeUndefined();
    expect(big.value).toMatchObject({ truncated: true, size: VALUE_PREVIEW_BYTES + 8 });
    const whole = presentRecord(record(Buffer.from(JSON.stringify({ t: "x".repeat(VALUE_PREVIEW_BYTES) }))), topic("ingest", "agent.results"), to, { vectors: "summary", full: true });
    expect(whole.value).toMatchObject({ truncated: false });
    expect(whole.json).toEqual({ t: "x".repeat(VALUE_PREVIEW_BYTES) });
  });
});
