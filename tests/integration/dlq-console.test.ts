/**
 * The console's DLQ view on a real broker: parse-, embed- and index-stage DLQ
 * records in today's shape and one written before stages and originals were
 * kept, read through lib/dlq and the API routes, counted per stage, and a
 * parse-stage entry redriven back to its source topic byte for byte.
 */
import { createHash } from "node:crypto";
import { Kafka, Partitioners, type IHeaders } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { serializeDlqWithOriginal, type RawMessage } from "../../lib/records/dlq-original";
import { createTopics } from "../harness/kafka-topics";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";

const topics = {
  raw: unique("agent-results"),
  embedInput: unique("embedding-input"),
  embeddings: unique("embeddings"),
  parseDlq: unique("parse-dlq"),
  embedDlq: unique("embed-dlq"),
};
// The console parses its environment once, on first use: set it before anything imports lib/dlq.
Object.assign(process.env, {
  KAFKA_BOOTSTRAP_SERVERS: inject("kafkaBrokers").join(","),
  PARSE_DLQ_TOPIC: topics.parseDlq,
  EMBED_DLQ_TOPIC: topics.embedDlq,
  EMBED_INPUT_TOPIC: topics.embedInput,
  EMBED_OUTPUT_TOPIC: topics.embeddings,
  DLQ_REDRIVE_MAX_REPLAYS: "3",
  LOG_LEVEL: "warn",
});
delete process.env.REDDB_URL;
delete process.env.CONSOLE_TOKEN;

const kafka = new Kafka({ clientId: "it-dlq-console", brokers: inject("kafkaBrokers"), logLevel: 1 });

/** The parse stage's input: a binary key, a value that is not UTF-8, headers with a repeat and binary bytes, an old replay count. */
const raw: RawMessage = {
  key: Buffer.from([0x00, 0x9f, 0x41]),
  value: Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
  headers: { trace: Buffer.from("trace-1"), multi: [Buffer.from("a"), Buffer.from([0xfe, 0x00])], "x-embedline-replay-count": Buffer.from("1") },
};
const now = Math.floor(Date.now() / 1000);
const base = { topic: null, kafka_ts: now - 10, attempts: 1, ts: now, error: "one line" };
const records = {
  parse: serializeDlqWithOriginal({ ...base, text: null, doc_id: null, model: null, reason: "invalid_unicode", stage: "parse", source: { topic: topics.raw, partition: 0, offset: "0", timestamp: now - 10 } }, raw, 1_000_000),
  embed: serializeDlqWithOriginal(
    { ...base, ts: now - 1, text: " ", topic: topics.raw, doc_id: "it-embed", model: "m", reason: "empty_text", stage: "embed", source: { topic: topics.embedInput, partition: 0, offset: "5", timestamp: now - 9 } },
    { key: Buffer.from("it-embed"), value: Buffer.from('{"text":" ","doc_id":"it-embed"}') }, 1_000_000,
  ),
  index: serializeDlqWithOriginal(
    { ...base, ts: now - 2, text: null, doc_id: "x".repeat(3000), model: "m", reason: "doc_id_too_long", stage: "index", source: { topic: topics.embeddings, partition: 0, offset: "9", timestamp: now - 8 } },
    { key: null, value: Buffer.from("{}") }, 1_000_000,
  ),
  // As the embed-worker wrote them before stages and originals were kept.
  legacy: JSON.stringify({ ...base, ts: now - 3, text: "legacy text", topic: topics.raw, doc_id: "it-legacy", model: "m", reason: "provider_rejected", source: { topic: topics.embedInput, partition: 0, offset: "2" } }),
};

type Dlq = typeof import("../../lib/dlq/source");
let dlq: Dlq;

beforeAll(async () => {
  await createTopics(kafka, Object.values(topics), 1);
  // Written as the workers write them: in transactions, so the topics hold commit markers too; plus one aborted record.
  const producer = kafka.producer({ transactionalId: unique("dlq-writer"), idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const tx = await producer.transaction();
  await tx.sendBatch({
    topicMessages: [
      { topic: topics.parseDlq, messages: [{ value: records.parse }] },
      { topic: topics.embedDlq, messages: [{ key: "it-embed", value: records.embed }, { value: records.index }, { key: "it-legacy", value: records.legacy, headers: { "x-embedline-replay-count": "1" } }] },
    ],
  });
  await tx.commit();
  const aborted = await producer.transaction();
  await aborted.send({ topic: topics.parseDlq, messages: [{ value: records.parse }] });
  await aborted.abort();
  await producer.disconnect();
  dlq = await import("../../lib/dlq/source");
});

afterAll(async () => {
  const { producer } = await import("../../lib/upstreams/kafka");
  await (await producer()).disconnect();
});

/** Route handlers are called as Next calls them: a Request and a context without params. */
const ctx = { params: Promise.resolve({}) };
const read = (q: Parameters<Dlq["readDlq"]>[0]) => dlq.readDlq(q, AbortSignal.timeout(30_000));

describe("reading both DLQs", () => {
  it.each([
    { stage: undefined, want: [["parse", false], ["embed", false], ["index", false], ["embed", true]] },
    { stage: "parse" as const, want: [["parse", false]] },
    { stage: "embed" as const, want: [["embed", false], ["embed", true]] },
    { stage: "index" as const, want: [["index", false]] },
  ])("stage $stage: newest first, each with its stage (inferred for the legacy entry), the aborted record left out", async ({ stage, want }) => {
    const { items, complete } = await read({ limit: 100, stage });
    expect(complete).toBe(true);
    expect(items.map((i) => [i.stage, i.stage_inferred])).toEqual(want);
    for (const i of items) expect(i.id).toMatch(new RegExp(`^kafka:(${topics.parseDlq}|${topics.embedDlq}):0:\\d+$`));
  });

  it("keeps the parse entry's original: key and value as base64 (not UTF-8), headers in order", async () => {
    const [parse] = (await read({ limit: 10, stage: "parse" })).items;
    expect(parse!.original!.value).toMatchObject({ encoding: "base64", size: raw.value!.length, sha256: createHash("sha256").update(raw.value!).digest("hex"), truncated: false });
    expect(parse!.original!.headers.map((h) => h.key)).toEqual(["trace", "multi", "multi", "x-embedline-replay-count"]);
    expect(parse!.replay_count).toBe(1);
  });

  it("answers through the API route with stage filter and clipped-list shape", async () => {
    const { GET } = await import("../../app/api/embed-worker/dlq/route");
    const res = await GET(new Request("http://console.test/api/embed-worker/dlq?limit=10&stage=parse"), ctx);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ count: 1, complete: true, sources: ["kafka"], source: `kafka:${topics.parseDlq}` });
    expect(body.items[0]).toMatchObject({ stage: "parse", dlq: topics.parseDlq, original: { key: { encoding: "base64" } } });
    expect(body.items[0].raw.original).toBeUndefined();
    const bad = await GET(new Request("http://console.test/api/embed-worker/dlq?stage=spark"), ctx);
    expect(bad.status).toBe(422);
  });

  it("downloads CSV with a stage column, and JSONL with the originals whole", async () => {
    const { GET } = await import("../../app/api/embed-worker/dlq/download/route");
    const csv = await (await GET(new Request("http://console.test/api/embed-worker/dlq/download?format=csv&limit=all"), ctx)).text();
    const lines = csv.trim().split("\r\n");
    const stageCol = lines[0]!.split(",").indexOf("stage");
    expect(lines.slice(1).map((l) => l.split(",")[0])).toHaveLength(4);
    expect(lines.slice(1).map((l) => l.split(",")[stageCol]).sort()).toEqual(["embed", "embed", "index", "parse"]);
    const jsonl = await (await GET(new Request("http://console.test/api/embed-worker/dlq/download?format=jsonl&stage=index"), ctx)).text();
    const rows = jsonl.trim().split("\n").map((l) => JSON.parse(l));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ stage: "index", dlq: topics.embedDlq, doc_id: "x".repeat(3000), original: { value: { data: "{}" } } });
  });

  it("counts entries per stage, and only reads what was added on the next poll", async () => {
    const { dlqCountsPoll } = await import("../../lib/upstreams/dlq-counts");
    const poll = dlqCountsPoll();
    expect(await poll(AbortSignal.timeout(30_000))).toMatchObject({ total: 4, by_stage: { parse: 1, embed: 2, index: 1 }, complete: true });
    const producer = kafka.producer({ transactionalId: unique("dlq-writer-2"), idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const tx = await producer.transaction();
    await tx.send({ topic: topics.parseDlq, messages: [{ value: records.parse.replace('"offset":"0"', '"offset":"1"') }] });
    await tx.commit();
    await producer.disconnect();
    // The commit marker lands after commit() returns; until then the record is past the last stable offset, and a later poll counts it.
    const next = await waitFor("the new entry counted", async () => {
      const e = await poll(AbortSignal.timeout(30_000));
      return "total" in e && e.total === 5 && e;
    }, 30_000);
    expect(next).toMatchObject({ total: 5, by_stage: { parse: 2, embed: 2, index: 1 }, by_topic: { [topics.parseDlq]: 2, [topics.embedDlq]: 3 }, complete: true });
  });
});

it("knows a DLQ topic that does not exist yet when the broker says so (it holds nothing)", async () => {
  const { isMissingTopic, planNewest } = await import("../../lib/upstreams/kafka");
  const err = await planNewest(unique("never-written"), 10).then(() => undefined, (e: unknown) => e);
  expect(isMissingTopic(err)).toBe(true);
  expect(isMissingTopic(new Error("Connection error: connect ECONNREFUSED"))).toBe(false);
});

describe("redrive", () => {
  it("re-sends a parse entry's original to its source topic: key, value and headers byte for byte, replay count raised", async () => {
    const { POST } = await import("../../app/api/embed-worker/dlq/redrive/route");
    const [parse] = (await read({ limit: 1, stage: "parse" })).items;
    const legacy = (await read({ limit: 10, stage: "embed" })).items.find((i) => i.stage_inferred)!;
    const res = await POST(new Request("http://console.test/api/embed-worker/dlq/redrive", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ids: [parse!.id, legacy.id, "kafka:0:999999"], limit: 100 }) }), ctx);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.redriven).toEqual([{ id: parse!.id, topic: topics.raw, how: "original" }, { id: legacy.id, topic: topics.embedInput, how: "rebuilt" }]);
    // The older id form still means EMBED_DLQ_TOPIC.
    expect(body.skipped).toEqual([{ id: `kafka:${topics.embedDlq}:0:999999`, reason: "not_found", detail: "not among the newest 100 entries read" }]);

    const { planNewest, readRanges } = await import("../../lib/upstreams/kafka");
    const got: { key: Buffer | null; value: Buffer | null; headers: IHeaders }[] = [];
    await readRanges(await planNewest(topics.raw, "all"), (m) => void got.push(m), AbortSignal.timeout(30_000));
    expect(got).toHaveLength(1);
    const [m] = got;
    expect(m!.key!.equals(raw.key!)).toBe(true);
    expect(m!.value!.equals(raw.value!)).toBe(true);
    const hex = (v: IHeaders[string]) => (Array.isArray(v) ? v.map((x) => Buffer.from(x).toString("hex")) : Buffer.from(v!).toString("hex"));
    expect(Object.keys(m!.headers)).toEqual(["trace", "multi", "x-embedline-replay-count", "x-embedline-redriven-from"]);
    expect(hex(m!.headers.trace)).toBe(Buffer.from("trace-1").toString("hex"));
    expect(hex(m!.headers.multi)).toEqual(["61", "fe00"]);
    expect(String(m!.headers["x-embedline-replay-count"])).toBe("2");
    expect(String(m!.headers["x-embedline-redriven-from"])).toBe(parse!.id);

    const rebuilt: { value: Buffer | null }[] = [];
    await readRanges(await planNewest(topics.embedInput, "all"), (r) => void rebuilt.push(r), AbortSignal.timeout(30_000));
    expect(rebuilt.map((r) => JSON.parse(r.value!.toString()))).toEqual([{ text: "legacy text", topic: topics.raw, kafka_ts: now - 10, doc_id: "it-legacy" }]);
  });
});

/**
 * The download on the real broker, once the parse DLQ holds more than fits the
 * download's queues and one fetch: a stalled client keeps the Kafka read
 * waiting (no rows lost or repeated), a cancelled download ends its read
 * (and no read ever makes a consumer group on the broker), and
 * a third download while two run is refused with 429.
 */
describe("download streaming", () => {
  const BIG = 1_500;
  const admin = kafka.admin();
  type Downloads = typeof import("../../lib/download/stream");
  let downloads: Downloads;
  let totalParse = 0;

  beforeAll(async () => {
    downloads = await import("../../lib/download/stream");
    const producer = kafka.producer({ transactionalId: unique("dlq-writer-big"), idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    // About 1 KB each: 1.5 MB, more than one fetch (1 MB per partition) and far more than the queues' 2×64 rows.
    for (let from = 0; from < BIG; from += 250) {
      const tx = await producer.transaction();
      await tx.send({ topic: topics.parseDlq, messages: Array.from({ length: 250 }, (_, i) => ({ value: records.parse.replace('"error":"one line"', `"error":"big ${from + i} ${"x".repeat(900)}"`) })) });
      await tx.commit();
    }
    await producer.disconnect();
    await admin.connect();
    // The whole topic, without the list's 10 s deadline: on a loaded machine that deadline cut this count short
    // (a partial list), and the complete download then looked like it repeated rows.
    const all = await dlq.readDlq({ limit: 10_000, stage: "parse" }, AbortSignal.timeout(120_000), { deadlineMs: null });
    expect(all.partial).toBeNull();
    totalParse = all.items.length;
    expect(totalParse).toBeGreaterThanOrEqual(BIG);
  });
  afterAll(() => admin.disconnect());

  const url = "http://console.test/api/embed-worker/dlq/download?format=jsonl&limit=all&stage=parse";
  const start = async () => {
    const { GET } = await import("../../app/api/embed-worker/dlq/download/route");
    const gone = new AbortController();
    const res = await GET(new Request(url, { signal: gone.signal }), ctx);
    return { res, gone };
  };
  /** Every consumer group on the broker: the console's reads must never add one. */
  const groupIds = async () => new Set((await admin.listGroups()).groups.map((g) => g.groupId));
  const rowsOf = (text: string) => text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { dlq_id: string });

  it("a client that stalls midway gets every row once: the read waits for it", async () => {
    const { res } = await start();
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    await waitFor("the reader to be reading", () => downloads.downloadStats().readers === 1);
    // The scenario, not a synchronisation: the client reads nothing for a while, the read waits with full queues.
    await new Promise((r) => setTimeout(r, 3_000));
    let text = new TextDecoder().decode(first.value);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const ids = rowsOf(text).map((r) => r.dlq_id);
    expect(ids).toHaveLength(totalParse);
    expect(new Set(ids).size).toBe(totalParse);
    await waitFor("the slot and the consumer released", () => downloads.downloadStats().active === 0 && downloads.downloadStats().readers === 0);
  });

  it("a download cancelled midway ends its read; it never joined or made a consumer group on the broker", async () => {
    const before = await groupIds();
    const { res, gone } = await start();
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    expect(downloads.downloadStats()).toEqual({ active: 1, readers: 1 });
    // Read-only by construction: plain fetches, no group to join, nothing to commit.
    expect([...(await groupIds())].filter((id) => !before.has(id))).toEqual([]);
    gone.abort();
    await reader.cancel();
    await waitFor("the module's reader released", () => downloads.downloadStats().readers === 0 && downloads.downloadStats().active === 0);
  });

  it("a download past its deadline fails (not a short file) and ends its read, though its client stalled", async () => {
    const { planDownload } = await import("../../lib/dlq/source");
    const plan = await planDownload({ limit: "all", stage: "parse" });
    const logged: string[] = [];
    const log = (await import("pino")).default({ level: "warn" }, { write: (s: string) => void logged.push(JSON.parse(s).msg) });
    let closed = 0;
    // The route's deadline is DOWNLOAD_DEADLINE_MS (120 s); the same stream with a short one.
    const body = downloads.downloadStream(plan.open, { row: (i) => `${JSON.stringify(i)}\n`, signal: new AbortController().signal, log: () => log, deadlineMs: 1_500, onClose: () => void (closed += 1) });
    const reader = body.getReader();
    expect((await reader.read()).done).toBe(false);
    await waitFor("the download to close at its deadline", () => closed === 1, 10_000);
    expect(downloads.downloadStats().readers).toBe(0);
    await expect((async () => { for (;;) if ((await reader.read()).done) return "ended"; })()).rejects.toThrow(/deadline/);
    expect(logged.filter((m) => /deadline/.test(m))).toHaveLength(1);
  });

  it("at most two at once: a third is 429 rate_limited with Retry-After, and a slot frees when one ends", async () => {
    const running = [await start(), await start()];
    for (const d of running) expect(d.res.status).toBe(200);
    const { res: third } = await start();
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await third.json()).toMatchObject({ error: { code: "rate_limited" } });
    for (const d of running) {
      d.gone.abort();
      await d.res.body!.cancel();
    }
    await waitFor("both slots free", () => downloads.downloadStats().active === 0 && downloads.downloadStats().readers === 0);
    const { res: again } = await start();
    expect(again.status).toBe(200);
    expect(rowsOf(await again.text())).toHaveLength(totalParse);
  });
});
