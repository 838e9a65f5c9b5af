/**
 * The topic browser on a real broker, through its API routes: the pipeline's
 * topics with offsets, records and sizes; messages by offset (paged with the
 * cursor), by time, newest N and by key, from topics written by a
 * transactional producer (one transaction aborted: never shown) and a plain
 * one; links between stages followed; every bad parameter a 4xx that says
 * what is valid; the export streamed; no read ever makes a consumer group.
 */
import { Kafka, Partitioners } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { serializeDlqWithOriginal } from "../../lib/records/dlq-original";
import type { MessagesAnswer, TopicsAnswer } from "../../lib/topics/types";
import { createTopics } from "../harness/kafka-topics";
import { unique } from "../harness/unique";

const topics = {
  raw: unique("agent-results"),
  embedInput: unique("embedding-input"),
  embeddings: unique("embeddings"),
  parseDlq: unique("parse-dlq"),
  embedDlq: unique("embed-dlq"),
  progress: unique("spark-progress"),
};
// The console parses its environment once, on first use: set it before anything imports lib/.
Object.assign(process.env, {
  KAFKA_BOOTSTRAP_SERVERS: inject("kafkaBrokers").join(","),
  SPARK_KAFKA_TOPICS: topics.raw,
  EMBED_INPUT_TOPIC: topics.embedInput,
  EMBED_OUTPUT_TOPIC: topics.embeddings,
  PARSE_DLQ_TOPIC: topics.parseDlq,
  EMBED_DLQ_TOPIC: topics.embedDlq,
  SPARK_PROGRESS_TOPIC: topics.progress,
  LOG_LEVEL: "warn",
});
delete process.env.CONSOLE_TOKEN;

const kafka = new Kafka({ clientId: "it-topics", brokers: inject("kafkaBrokers"), logLevel: 1 });
const admin = kafka.admin();
const PARTITIONS = 3;
const DIM = 32;
/** Record timestamps a second apart from here: time-based reads know exactly what comes at or after a time. */
const T0 = Date.UTC(2026, 0, 1);
const N = 30;
const docId = (i: number) => `doc-${i}`;
const vector = (i: number) => Array.from({ length: DIM }, (_, d) => (d === i % DIM ? 1 : 0));
const inputValue = (i: number) => JSON.stringify({ text: `text number ${i}`, topic: topics.raw, kafka_ts: (T0 + i * 1000) / 1000, doc_id: docId(i) });
const embeddingValue = (i: number) =>
  JSON.stringify({ topic: topics.raw, text: `text number ${i}`, doc_id: docId(i), vector: vector(i), kafka_ts: (T0 + i * 1000) / 1000, embedded_ts: T0 / 1000 + 100, model: "m", dim: DIM, normalized: true });
const BIG = "x".repeat(70 * 1024);
const groupName = unique("it-topics-reader");

/** What was committed to `embeddings`, by partition, in offset order: the truth every read is checked against. */
const committed = new Map<number, { offset: string; key: string }[]>();

beforeAll(async () => {
  await createTopics(kafka, [topics.embeddings, topics.embedInput], PARTITIONS);
  await createTopics(kafka, [topics.raw, topics.parseDlq, topics.embedDlq], 1);
  // The embed-worker's way: transactions (commit markers between the records), one of them aborted.
  const tx = kafka.producer({ transactionalId: unique("it-topics-tx"), idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await tx.connect();
  for (let from = 0; from < N; from += 5) {
    const t = await tx.transaction();
    await t.send({ topic: topics.embeddings, messages: Array.from({ length: 5 }, (_, k) => ({ key: docId(from + k), value: embeddingValue(from + k), timestamp: String(T0 + (from + k) * 1000) })) });
    await t.commit();
    if (from === 10) {
      const aborted = await tx.transaction();
      await aborted.send({ topic: topics.embeddings, messages: [0, 1, 2].map((p) => ({ key: "aborted-doc", partition: p, value: embeddingValue(999), timestamp: String(T0 + 10_500) })) });
      await aborted.abort();
    }
  }
  const big = await tx.transaction();
  await big.send({ topic: topics.embeddings, messages: [{ key: "big-doc", partition: 0, value: JSON.stringify({ doc_id: "big-doc", text: BIG }), timestamp: String(T0 + 60_000) }] });
  await big.commit();
  await tx.disconnect();
  // The parse worker's and the console's way: a plain idempotent producer.
  const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await plain.connect();
  await plain.send({ topic: topics.embedInput, messages: Array.from({ length: N }, (_, i) => ({ key: docId(i), value: inputValue(i), timestamp: String(T0 + i * 1000 + 10) })) });
  await plain.send({ topic: topics.raw, messages: [{ key: Buffer.from([0xff, 0x00, 0x9f]), value: Buffer.from([0x80, 0x81, 0x82]), headers: { trace: "t-1", bin: Buffer.from([0xfe]) }, timestamp: String(T0) }] });
  await plain.send({
    topic: topics.parseDlq,
    messages: [{ value: serializeDlqWithOriginal({ text: null, topic: null, kafka_ts: T0 / 1000, doc_id: null, reason: "invalid_unicode", error: "e", attempts: 1, ts: T0 / 1000, model: null, stage: "parse", source: { topic: topics.raw, partition: 0, offset: "0", timestamp: T0 / 1000 } }, { key: null, value: Buffer.from([0x80, 0x81, 0x82]) }, 1_000_000) }],
  });
  await plain.disconnect();
  await admin.connect();
  // A reader group with committed offsets, as the indexers' is.
  await admin.setOffsets({ groupId: groupName, topic: topics.embeddings, partitions: [{ partition: 0, offset: "1" }] });
  // The truth, read whole with a consumer of our own (not the code under test).
  const { readTopic } = await import("../harness/read-topic");
  for (const r of await readTopic(kafka, topics.embeddings)) {
    const list = committed.get(r.partition) ?? [];
    list.push({ offset: r.offset, key: r.key ?? "" });
    committed.set(r.partition, list);
  }
}, 120_000);
afterAll(() => admin.disconnect());

const base = "http://console.test/api/topics";
const ctxOf = (name: string) => ({ params: Promise.resolve({ name }) });
async function messages(topic: string, query: string): Promise<{ status: number; body: MessagesAnswer & { error?: { code: string; message: string } } }> {
  const { GET } = await import("../../app/api/topics/[name]/messages/route");
  const res = await GET(new Request(`${base}/${encodeURIComponent(topic)}/messages?${query}`), ctxOf(topic));
  return { status: res.status, body: await res.json() };
}
const ok = async (topic: string, query: string) => {
  const r = await messages(topic, query);
  expect(r.status, JSON.stringify(r.body.error)).toBe(200);
  return r.body;
};
const keys = (a: MessagesAnswer) => a.messages.map((m) => m.key?.data);

describe("GET /api/topics", () => {
  it("lists the pipeline's topics in flow order with partitions, records (markers and aborted records not counted), size, retention, writer and readers", async () => {
    const { GET } = await import("../../app/api/topics/route");
    const res = await GET(new Request(base), { params: Promise.resolve({}) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as TopicsAnswer;
    expect(body.topics.map((t) => [t.role, t.name, t.exists])).toEqual([
      ["ingest", topics.raw, true],
      ["embedding_input", topics.embedInput, true],
      ["embeddings", topics.embeddings, true],
      ["parse_dlq", topics.parseDlq, true],
      ["embed_dlq", topics.embedDlq, true],
      ["spark_progress", topics.progress, false],
    ]);
    const emb = body.topics[2]!;
    expect(emb.records).toBe(N + 1);
    expect(emb.exact).toBe(true);
    expect(emb.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    // Offsets count markers and the aborted records; records do not.
    const offsets = emb.partitions.reduce((n, p) => n + Number(p.end) - Number(p.start), 0);
    expect(offsets).toBeGreaterThan(N + 1 + 3);
    for (const p of emb.partitions) expect(p.records).toBe(committed.get(p.partition)?.length ?? 0);
    expect(emb.size_bytes).toBeGreaterThan(70 * 1024);
    expect(emb.readers).toContain(groupName);
    expect(emb).toMatchObject({ writer: "embed-worker", cleanup_policy: "delete", retention_ms: -1 });
    expect(body.topics[5]).toMatchObject({ partitions: [], records: 0, size_bytes: null });
  });
});

describe("GET /api/topics/{name}/messages", () => {
  it("newest N: newest first across partitions, the aborted transaction never shown", async () => {
    const a = await ok(topics.embeddings, "limit=5");
    expect(a.mode).toBe("newest");
    expect(keys(a)).toEqual(["big-doc", docId(29), docId(28), docId(27), docId(26)]);
    expect(a.next).toBeNull();
    const everything = await ok(topics.embeddings, "limit=500");
    expect(everything.messages).toHaveLength(N + 1);
    expect(keys(everything)).not.toContain("aborted-doc");
  });

  it("by offset: one partition from an offset in order, and the cursor pages through it with no gap or repeat", async () => {
    const truth = committed.get(0)!;
    const first = await ok(topics.embeddings, `partition=0&offset=${truth[0]!.offset}&limit=3`);
    expect(first.mode).toBe("offset");
    const seen = first.messages.map((m) => m.offset);
    let next = first.next;
    while (next) {
      const page = await ok(topics.embeddings, `cursor=${next}&limit=3`);
      expect(page.mode).toBe("cursor");
      seen.push(...page.messages.map((m) => m.offset));
      next = page.next;
    }
    expect(seen).toEqual(truth.map((t) => t.offset));
    // From the middle: exactly the records at or after that offset.
    const mid = truth[2]!.offset;
    expect((await ok(topics.embeddings, `partition=0&offset=${mid}&limit=500`)).messages.map((m) => m.offset)).toEqual(truth.slice(2).map((t) => t.offset));
  });

  it("by time: each partition from its first record at or after the time, merged oldest first (ISO 8601 and epoch ms alike)", async () => {
    const at = T0 + 20_000;
    const iso = await ok(topics.embeddings, `timestamp=${new Date(at).toISOString()}&limit=4`);
    expect(iso.mode).toBe("timestamp");
    expect(keys(iso)).toEqual([docId(20), docId(21), docId(22), docId(23)]);
    expect(iso.messages.map((m) => m.timestamp)).toEqual([at, at + 1000, at + 2000, at + 3000]);
    expect(keys(await ok(topics.embeddings, `timestamp=${at}&limit=4`))).toEqual(keys(iso));
    // After the last record: nothing, and nothing left to page.
    const after = await ok(topics.embeddings, `timestamp=${T0 + 3_600_000}`);
    expect(after.messages).toEqual([]);
    expect(after.next).toBeNull();
  });

  it("by key: only that key's records, whichever partition holds them; the aborted key has none", async () => {
    const found = await ok(topics.embeddings, `key=${docId(7)}`);
    expect(keys(found)).toEqual([docId(7)]);
    expect(found.scanned).toBeGreaterThanOrEqual(1);
    expect((await ok(topics.embeddings, "key=aborted-doc")).messages).toEqual([]);
    expect((await ok(topics.embeddings, `key=${docId(7)}&timestamp=${T0 + 7000}`)).messages.map((m) => m.key?.data)).toEqual([docId(7)]);
  });

  it("summarises vectors (dimension, norm, first values) unless asked for whole", async () => {
    const [m] = (await ok(topics.embeddings, `key=${docId(3)}`)).messages;
    expect((m!.json as { vector: unknown }).vector).toEqual({ $vector: { dim: DIM, norm: 1, head: vector(3).slice(0, 8) } });
    expect(m!.value).toMatchObject({ encoding: "utf8", data: null, truncated: false });
    const [whole] = (await ok(topics.embeddings, `key=${docId(3)}&vectors=full`)).messages;
    expect((whole!.json as { vector: unknown }).vector).toEqual(vector(3));
  });

  it("a value over the page's preview comes cut and unparsed, and whole with full=1", async () => {
    const [cut] = (await ok(topics.embeddings, "key=big-doc")).messages;
    expect(cut!.json).toBeUndefined();
    expect(cut!.value).toMatchObject({ encoding: "utf8", truncated: true, size: BIG.length + 30 });
    expect(cut!.value!.data!.length).toBe(64 * 1024);
    const [whole] = (await ok(topics.embeddings, "key=big-doc&full=1&limit=1")).messages;
    expect(whole!.value).toMatchObject({ truncated: false });
    expect((whole!.json as { text: string }).text).toBe(BIG);
  });

  it("shows bytes that are not UTF-8 as base64, headers in order", async () => {
    const [m] = (await ok(topics.raw, "limit=1")).messages;
    expect(m!.key).toEqual({ encoding: "base64", data: Buffer.from([0xff, 0x00, 0x9f]).toString("base64"), size: 3, truncated: false });
    expect(m!.value).toMatchObject({ encoding: "base64", data: Buffer.from([0x80, 0x81, 0x82]).toString("base64") });
    expect(m!.headers).toEqual([
      { key: "trace", value: { encoding: "utf8", data: "t-1", size: 3, truncated: false } },
      { key: "bin", value: { encoding: "base64", data: "/g==", size: 1, truncated: false } },
    ]);
  });

  it("links an embedding to its source and its neighbours, and a DLQ entry to its original; following them finds those records", async () => {
    const [m] = (await ok(topics.embeddings, `key=${docId(12)}`)).messages;
    const source = m!.links.find((l) => l.rel === "source")!;
    expect(m!.links.find((l) => l.rel === "similar")!.href).toBe(`/search?doc_id=${docId(12)}`);
    const follow = async (href: string) => {
      const u = new URL(href, "http://console.test");
      return ok(decodeURIComponent(u.pathname.replace(/^\/topics\//, "")), u.searchParams.toString());
    };
    const [input] = (await follow(source.href)).messages;
    expect(input!.json).toMatchObject({ doc_id: docId(12), text: "text number 12" });
    const [dlq] = (await ok(topics.parseDlq, "limit=1")).messages;
    const original = await follow(dlq!.links.find((l) => l.rel === "original")!.href);
    expect(original.messages.map((o) => [o.partition, o.offset])).toEqual([[0, "0"]]);
  });

  it("never makes a consumer group on the broker", async () => {
    const before = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    await ok(topics.embeddings, "limit=50");
    await ok(topics.embeddings, `key=${docId(1)}`);
    expect((await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => !before.has(g))).toEqual([]);
  });

  const beyond = "99999999";
  it.each([
    { query: "", topic: "__consumer_offsets", status: 404, code: "unknown_topic", says: /not one of the pipeline's topics; these are: .*embeddings/ },
    { query: "", topic: "nö such topic", status: 404, code: "unknown_topic", says: /not one of the pipeline's topics/ },
    { query: "", topic: topics.progress, status: 404, code: "unknown_topic", says: /does not exist yet/ },
    { query: "partition=7", status: 422, code: "out_of_range", says: /partition 7 does not exist: .* has partitions 0\.\.2/ },
    { query: `partition=0&offset=${beyond}`, status: 422, code: "out_of_range", says: /offset 99999999 is outside partition 0's records: it holds offsets \d+\.\.\d+/ },
    { query: "offset=3", status: 422, code: "invalid_request", says: /offset needs a partition/ },
    { query: "partition=0&offset=-1", status: 422, code: "invalid_request", says: /offset/ },
    { query: "partition=x", status: 422, code: "invalid_request", says: /partition/ },
    { query: "timestamp=yesterday", status: 422, code: "invalid_request", says: /ISO 8601 .* or epoch milliseconds/ },
    { query: "timestamp=2026-13-45T99:00:00Z", status: 422, code: "invalid_request", says: /is not a time/ },
    { query: "timestamp=1&partition=0&offset=1", status: 422, code: "invalid_request", says: /at most one of offset, timestamp or cursor/ },
    { query: "cursor=0:1,zz", status: 422, code: "invalid_request", says: /partition:offset pairs/ },
    { query: "cursor=0:1&partition=0", status: 422, code: "invalid_request", says: /cursor names its own partitions/ },
    { query: "cursor=9:0", status: 422, code: "out_of_range", says: /partition 9 does not exist/ },
    { query: "limit=0", status: 422, code: "invalid_request", says: /limit must be an integer from 1 to 500/ },
    { query: "limit=501", status: 422, code: "invalid_request", says: /1 to 500/ },
    { query: "full=1&limit=50", status: 422, code: "invalid_request", says: /at most 10 records/ },
    { query: "key=", status: 422, code: "invalid_request", says: /key is empty/ },
    { query: "vectors=all", status: 422, code: "invalid_request", says: /summary or full/ },
  ])("$topic?$query → $status $code", async ({ query, topic, status, code, says }) => {
    const r = await messages(topic ?? topics.embeddings, query);
    expect(r.status).toBe(status);
    expect(r.body.error!.code).toBe(code);
    expect(r.body.error!.message).toMatch(says);
  });
});

describe("GET /api/topics/{name}/export", () => {
  const exportOf = async (topic: string, query: string) => {
    const { GET } = await import("../../app/api/topics/[name]/export/route");
    return GET(new Request(`${base}/${encodeURIComponent(topic)}/export?${query}`), ctxOf(topic));
  };
  const rows = (text: string) => text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { partition: number; offset: string; key: { data: string }; value: { data: string; encoding: string } });

  it("streams every committed record whole, partition by partition in offset order, as JSONL", async () => {
    const res = await exportOf(topics.embeddings, "limit=all");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toMatch(new RegExp(`attachment; filename="${topics.embeddings}-.*\\.jsonl"`));
    const got = rows(await res.text());
    expect(got.map((r) => [r.partition, r.offset])).toEqual([...committed].sort((a, b) => a[0] - b[0]).flatMap(([p, list]) => list.map((t) => [p, t.offset])));
    expect(got.find((r) => r.key.data === "big-doc")!.value.data).toBe(JSON.stringify({ doc_id: "big-doc", text: BIG }));
    expect(got.map((r) => r.key.data)).not.toContain("aborted-doc");
  });

  it("takes the page's parameters: a key, a time, a limit", async () => {
    expect(rows(await (await exportOf(topics.embeddings, `key=${docId(4)}`)).text()).map((r) => r.key.data)).toEqual([docId(4)]);
    const fromTime = rows(await (await exportOf(topics.embeddings, `timestamp=${T0 + 25_000}&limit=all`)).text());
    expect(fromTime.map((r) => r.key.data).sort()).toEqual([docId(25), docId(26), docId(27), docId(28), docId(29), "big-doc"].sort());
    expect(rows(await (await exportOf(topics.embeddings, "limit=4&partition=0&offset=0")).text())).toHaveLength(Math.min(4, committed.get(0)!.length));
  });

  it("newest N counts records, not offsets: each partition's part is its newest records (never a commit marker's place)", async () => {
    const got = rows(await (await exportOf(topics.embeddings, "limit=6")).text());
    expect(got).toHaveLength(6);
    for (const [p, list] of committed) {
      const mine = got.filter((r) => r.partition === p).map((r) => r.offset);
      expect(mine).toEqual(list.slice(list.length - mine.length).map((t) => t.offset));
    }
    expect(rows(await (await exportOf(topics.embeddings, "limit=1&partition=0")).text()).map((r) => r.key.data)).toEqual(["big-doc"]);
  });

  it("refuses bad parameters before the first byte", async () => {
    const res = await exportOf(topics.embeddings, "partition=7");
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("out_of_range");
    expect((await exportOf("nope", "")).status).toBe(404);
  });

  it("shares the DLQ download's slots: with two downloads running a third is 429 with Retry-After", async () => {
    const { acquireDownloadSlot } = await import("../../lib/download/stream");
    const held = [acquireDownloadSlot(), acquireDownloadSlot()];
    try {
      const res = await exportOf(topics.embeddings, "limit=1");
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      for (const release of held) release();
    }
    const again = await exportOf(topics.embeddings, "limit=1");
    expect(again.status).toBe(200);
    expect(rows(await again.text())).toHaveLength(1);
  });
});
