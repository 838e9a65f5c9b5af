import { describe, expect, it } from "vitest";
import { CSV_COLUMNS, csvHeader, csvRow, jsonlRow } from "@/lib/dlq/csv";
import { forList, inferStage, normalizeDlqId, toDlqItem, type DlqLocation, type DlqTopics } from "@/lib/dlq/item";
import { kafkaItem, kafkaTopicsFor, mergeDlqItems } from "@/lib/dlq/source";
import { PartitionCount, stageOf } from "@/lib/upstreams/dlq-counts";
import { dlqOriginal } from "@/lib/records/dlq-original";

const topics: DlqTopics = { parse: "agent.results.dlq", embed: "embeddings_dlq", embeddings: "embeddings" };
const at = (topic: string, partition = 0, offset = "7"): DlqLocation => ({ kind: "kafka", topic, partition, offset });

/** A DLQ record as each stage writes it today (stage and original), or as written before either existed (`legacy`). */
const record = (kind: "parse" | "embed" | "index" | "legacy-embed" | "legacy-parse" | "legacy-index", over: Record<string, unknown> = {}) => {
  const source = { parse: "agent.results", embed: "embedding_input", index: "embeddings" }[kind.replace("legacy-", "") as "parse" | "embed" | "index"];
  const base = {
    text: kind.endsWith("parse") ? null : "hello", topic: "agent.results", kafka_ts: 1700000000, doc_id: kind.endsWith("parse") ? null : "d1",
    reason: kind.endsWith("parse") ? "invalid_unicode" : "provider_rejected", error: "HTTP 422", attempts: 1, ts: 1700000001, model: kind.endsWith("parse") ? null : "all-MiniLM-L6-v2",
    source: { topic: source, partition: 2, offset: "41", ...(kind.startsWith("legacy") ? {} : { timestamp: 1700000000 }) },
  };
  if (kind.startsWith("legacy")) return { ...base, ...over };
  const original = dlqOriginal({ key: Buffer.from("k1"), value: Buffer.from([0x7b, 0xff, 0x7d]), headers: { trace: "abc" } });
  return { ...base, stage: kind, original, ...over };
};

describe("stage of an entry", () => {
  it.each([
    { name: "parse record", loc: at(topics.parse), value: record("parse"), stage: "parse", inferred: false },
    { name: "embed record", loc: at(topics.embed), value: record("embed"), stage: "embed", inferred: false },
    { name: "index record in EMBED_DLQ_TOPIC", loc: at(topics.embed), value: record("index"), stage: "index", inferred: false },
    { name: "legacy parse record: from its DLQ", loc: at(topics.parse), value: record("legacy-parse"), stage: "parse", inferred: true },
    { name: "legacy embed record: from its DLQ", loc: at(topics.embed), value: record("legacy-embed"), stage: "embed", inferred: true },
    { name: "legacy index record: from its source topic", loc: at(topics.embed), value: record("legacy-index"), stage: "index", inferred: true },
    { name: "RedDB's stream: the embed-worker's", loc: { kind: "reddb", stream: "embeddings_dlq", offset: "3" } as DlqLocation, value: record("legacy-embed"), stage: "embed", inferred: true },
    { name: "a foreign value in the parse DLQ", loc: at(topics.parse), value: "not json", stage: "parse", inferred: true },
    { name: "a foreign value with a stage", loc: at(topics.embed), value: { stage: "index", reason: "whatever" }, stage: "index", inferred: false },
    { name: "a topic that is no DLQ of ours", loc: at("elsewhere"), value: record("legacy-embed"), stage: null, inferred: true },
  ])("$name → $stage", ({ loc, value, stage, inferred }) => {
    const item = toDlqItem(loc, value, undefined, null, topics);
    expect(item.stage).toBe(stage);
    expect(item.stage_inferred).toBe(inferred);
  });

  it("prefers the recorded stage over what the DLQ suggests", () => {
    expect(toDlqItem(at(topics.parse), record("embed"), undefined, null, topics).stage).toBe("embed");
    expect(inferStage(at(topics.embed), "embeddings", topics)).toBe("index");
  });
});

describe("ids", () => {
  it.each([
    { loc: at("agent.results.dlq", 1, "12"), id: "kafka:agent.results.dlq:1:12", dlq: "agent.results.dlq" },
    { loc: at("embeddings_dlq", 0, "9223372036854775807"), id: "kafka:embeddings_dlq:0:9223372036854775807", dlq: "embeddings_dlq" },
    { loc: { kind: "reddb", stream: "embeddings_dlq", offset: "5" } as DlqLocation, id: "reddb:embeddings_dlq:5", dlq: "reddb:embeddings_dlq" },
  ])("$id: unique across DLQs", ({ loc, id, dlq }) => {
    const item = toDlqItem(loc, record("embed"), undefined, null, topics);
    expect(item.id).toBe(id);
    expect(item.dlq).toBe(dlq);
  });

  it.each([
    { id: "kafka:0:7", out: "kafka:embeddings_dlq:0:7" },
    { id: "reddb:42", out: "reddb:embeddings_dlq:42" },
    { id: "kafka:agent.results.dlq:0:7", out: "kafka:agent.results.dlq:0:7" },
    { id: "kafka:123:0:7", out: "kafka:123:0:7" },
    { id: "reddb:embeddings_dlq:42", out: "reddb:embeddings_dlq:42" },
  ])("an id sent as $id selects $out (the older forms meant EMBED_DLQ_TOPIC and RedDB's stream)", ({ id, out }) => {
    expect(normalizeDlqId(id, { embedTopic: "embeddings_dlq", reddbStream: "embeddings_dlq" })).toBe(out);
  });
});

describe("reading both DLQs", () => {
  const item = (topic: string, offset: string, ts: number, kind: Parameters<typeof record>[0]) => toDlqItem(at(topic, 0, offset), record(kind, { ts }), undefined, null, topics);
  const parse = [item(topics.parse, "1", 100, "parse"), item(topics.parse, "2", 300, "legacy-parse")];
  const embed = [item(topics.embed, "1", 200, "embed"), item(topics.embed, "2", 400, "index"), item(topics.embed, "3", 300, "legacy-embed")];

  it.each([
    { stage: undefined, limit: 10, ids: ["kafka:embeddings_dlq:0:2", "kafka:agent.results.dlq:0:2", "kafka:embeddings_dlq:0:3", "kafka:embeddings_dlq:0:1", "kafka:agent.results.dlq:0:1"] },
    { stage: undefined, limit: 2, ids: ["kafka:embeddings_dlq:0:2", "kafka:agent.results.dlq:0:2"] },
    { stage: "parse" as const, limit: 10, ids: ["kafka:agent.results.dlq:0:2", "kafka:agent.results.dlq:0:1"] },
    { stage: "embed" as const, limit: 10, ids: ["kafka:embeddings_dlq:0:3", "kafka:embeddings_dlq:0:1"] },
    { stage: "index" as const, limit: 10, ids: ["kafka:embeddings_dlq:0:2"] },
  ])("stage $stage, limit $limit: newest first, ties by id", ({ stage, limit, ids }) => {
    expect(mergeDlqItems([parse, embed], { limit, stage }).map((i) => i.id)).toEqual(ids);
  });

  it.each([
    { stage: undefined, read: ["agent.results.dlq", "embeddings_dlq"] },
    { stage: "parse" as const, read: ["agent.results.dlq"] },
    { stage: "embed" as const, read: ["embeddings_dlq"] },
    { stage: "index" as const, read: ["embeddings_dlq"] },
  ])("stage $stage reads $read", ({ stage, read }) => {
    expect(kafkaTopicsFor(stage, topics)).toEqual(read);
  });

  it("reads one topic once when both stages share it", () => {
    expect(kafkaTopicsFor(undefined, { ...topics, parse: "one" , embed: "one" })).toEqual(["one"]);
  });

  it.each([
    { name: "the DLQ message's header", header: Buffer.from("2"), originalHeader: undefined, count: 2 },
    { name: "the original's header (a parse-stage entry of a redriven record)", header: undefined, originalHeader: "3", count: 3 },
    { name: "the higher of both", header: "1", originalHeader: "2", count: 2 },
    { name: "none", header: undefined, originalHeader: undefined, count: 0 },
    { name: "garbage", header: "x1", originalHeader: "-1", count: 0 },
  ])("replay count from $name", ({ header, originalHeader, count }) => {
    const original = dlqOriginal({ key: null, value: Buffer.from("v"), headers: originalHeader ? { "x-embedline-replay-count": originalHeader } : {} });
    const m = { partition: 0, offset: "5", timestamp: 1_700_000_000_000, key: null, headers: header ? { "x-embedline-replay-count": header } : {}, value: Buffer.from(JSON.stringify(record("parse", { original }))) };
    expect(kafkaItem(topics.parse, m, topics).replay_count).toBe(count);
  });

  it("keeps a record that is not ours, dated by its Kafka timestamp, and never valid for redrive", () => {
    const m = { partition: 1, offset: "3", timestamp: 1_700_000_000_500, key: null, headers: {}, value: Buffer.from("garbage") };
    const i = kafkaItem(topics.embed, m, topics);
    expect(i).toMatchObject({ id: "kafka:embeddings_dlq:1:3", ts: 1_700_000_000.5, reason: "unknown", valid: false, raw: "garbage", stage: "embed" });
  });
});

describe("what the list sends", () => {
  it("clips long original data (base64 on a 4-character boundary), keeps size and sha256, drops the copy in raw", () => {
    const value = Buffer.alloc(40_000, 0xff);
    const original = dlqOriginal({ key: Buffer.from("k"), value, headers: { h: "x".repeat(30) } });
    const item = toDlqItem(at(topics.parse), record("parse", { original }), undefined, null, topics);
    const shown = forList(item, 30);
    expect(shown.original?.value).toMatchObject({ encoding: "base64", size: 40_000, sha256: original.value!.sha256, truncated: false, clipped: true });
    expect(shown.original!.value!.data!.length).toBe(28);
    expect(shown.original!.key).toEqual(original.key);
    expect(shown.original!.headers[0]!.value).toMatchObject({ data: "x".repeat(30) });
    expect((shown.raw as { original?: unknown }).original).toBeUndefined();
    expect(JSON.stringify(shown.raw)).not.toContain('"original"');
    // The item itself (what download and redrive use) keeps it whole.
    expect(item.original!.value!.data!.length).toBe(original.value!.data!.length);
  });
});

describe("downloads", () => {
  const parse = toDlqItem(at(topics.parse, 0, "4"), record("parse"), "1", null, topics);
  const legacy = toDlqItem(at(topics.embed, 1, "9"), record("legacy-index"), undefined, null, topics);
  const cells = (row: string) => {
    const out: string[] = [];
    for (const m of row.replace(/\r\n$/, "").matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)) {
      out.push(m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replace(/""/g, '"') : m[1]!);
      if (m[2] === "") break;
    }
    return Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, out[i]]));
  };

  it("CSV: the old columns first, then stage, DLQ and the original", () => {
    expect(csvHeader().startsWith("id,ts,reason,error,attempts,model,doc_id,topic,kafka_ts,source_topic,source_partition,source_offset,replay_count,text,stage,")).toBe(true);
  });

  it.each([
    { name: "parse entry", item: parse, want: { id: "kafka:agent.results.dlq:0:4", stage: "parse", dlq: "agent.results.dlq", text: "", replay_count: "1", original_key: "k1", original_value: Buffer.from([0x7b, 0xff, 0x7d]).toString("base64"), original_value_encoding: "base64", original_value_size: "3", original_truncated: "false", original_headers: '[{"key":"trace","value":"abc","encoding":"utf8"}]' } },
    { name: "legacy index entry", item: legacy, want: { id: "kafka:embeddings_dlq:1:9", stage: "index", dlq: "embeddings_dlq", text: "hello", source_topic: "embeddings", original_key: "", original_value: "", original_truncated: "" } },
  ])("CSV row of a $name", ({ item, want }) => {
    const row = cells(csvRow(item));
    expect(Object.keys(row)).toHaveLength(CSV_COLUMNS.length);
    expect(row).toMatchObject(want);
  });

  it.each([
    { name: "parse entry", item: parse, want: { dlq_id: "kafka:agent.results.dlq:0:4", dlq: "agent.results.dlq", stage: "parse", stage_inferred: false, replay_count: 1 } },
    { name: "legacy index entry", item: legacy, want: { dlq_id: "kafka:embeddings_dlq:1:9", stage: "index", stage_inferred: true, replay_count: 0 } },
  ])("JSONL line of a $name: the record as stored, with stage and where it sits", ({ item, want }) => {
    const line = jsonlRow(item);
    expect(line.endsWith("\n")).toBe(true);
    const parsed = JSON.parse(line);
    expect(parsed).toMatchObject(want);
    expect(parsed.original).toEqual(item.original ?? undefined);
  });
});

describe("DLQ counts", () => {
  const value = (v: unknown) => ({ partition: 0, offset: "1", value: Buffer.from(JSON.stringify(v)) });
  it.each([
    { topic: topics.parse, v: record("legacy-parse"), stage: "parse" },
    { topic: topics.embed, v: record("embed"), stage: "embed" },
    { topic: topics.embed, v: record("index"), stage: "index" },
    { topic: topics.embed, v: record("legacy-index"), stage: "index" },
    { topic: topics.embed, v: "not a record", stage: "embed" },
  ])("a record in $topic counts as $stage", ({ topic, v, stage }) => {
    expect(stageOf(topic, value(v), topics)).toBe(stage);
  });

  it("counts by offset, so retention removes exactly what it deleted", () => {
    const p = new PartitionCount();
    // Offsets 1, 3, 5 are transaction markers: the topic's end minus start would say 7.
    for (const [s, o] of [["embed", 0], ["index", 2], ["embed", 4], ["embed", 6]] as const) p.add(s, o);
    expect([p.count("embed"), p.count("index")]).toEqual([3, 1]);
    p.dropBefore(3);
    expect([p.count("embed"), p.count("index"), p.readTo]).toEqual([2, 0, 3]);
  });
});
