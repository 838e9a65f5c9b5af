import { createHash } from "node:crypto";
import type { IHeaders, Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createKafka } from "../../lib/kafka/client";
import { createLogger } from "../../lib/log";
import { originalBytes } from "../../lib/records/dlq-original";
import { dlqRecordSchema, type DlqRecord } from "../../lib/records/dlq-record";
import { groupCaughtUp } from "../harness/kafka-topics";
import { readTopic } from "../harness/read-topic";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";
import { createTopicsWithLimit, setTopicLimit, startParseWorker, workerHealth, workerMetrics, type ParseWorkerProcess } from "../harness/parse-worker";

// Hostile records through the TypeScript parse worker on the real broker: each
// is followed by an ordinary record on the same partition, and the worker must
// stay up, pass the ordinary ones on, and put the hostile one in the DLQ with
// its reason and original bytes (or pass it on when it is a valid record).
// Topics take 200 KB records (max.message.bytes), so the cases stay small.

const LIMIT = 200_000;
/**
 * Bytes a record batch adds around one record's value when it has no key and
 * no headers and the value is 16 KiB..1 MiB: batch header 61, record length
 * varint 3, attributes, timestamp and offset deltas, key length 1 each, value
 * length varint 3, header count 1. The test checks it: LIMIT - 72 is accepted, one more is refused.
 */
const FRAMING_AT_LIMIT = 72;

const brokers = inject("kafkaBrokers");
const kafka = createKafka({ clientId: "parse-hostile-test", brokers, log: createLogger("parse-hostile-test", "error") });
const setup = { brokers, input: unique("hostile-in"), output: unique("hostile-out"), dlq: unique("hostile-dlq"), group: unique("hostile-group"), transactionalId: unique("hostile-tx") };
let producer: Producer;
let worker: ParseWorkerProcess;

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const ordinary = (name: string) => Buffer.from(JSON.stringify({ id: `after-${name}`, text: `an ordinary record after ${name}` }));

interface Hostile {
  name: string;
  key?: Buffer;
  value: Buffer;
  headers?: IHeaders;
  /** The DLQ reason, or the embedding_input key (doc_id) when the record is valid for the parse stage. */
  expect: { reason: DlqRecord["reason"]; truncated: boolean } | { docId: string };
}

const deepArray = "[".repeat(100_000);
const headers: IHeaders = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`h-${i}`, Buffer.from(String(i % 10).repeat(500))]));
const atLimit = Buffer.from(JSON.stringify({ text: "x".repeat(LIMIT - FRAMING_AT_LIMIT - 11) }));

const hostile: Hostile[] = [
  // ~180 KB raw fits the input topic; JSON-escaped (\u0001 is 6 bytes) it is ~1 MB.
  { name: "control characters that grow six-fold when JSON-escaped", key: Buffer.from("ctl-key"), value: Buffer.from("\u0001".repeat(180_000)), expect: { reason: "too_large", truncated: true } },
  { name: "a 3,000-character doc_id", value: Buffer.from(JSON.stringify({ doc_id: "d".repeat(3000), text: "a record with a long id" })), expect: { docId: "d".repeat(3000) } },
  { name: "invalid UTF-8", key: Buffer.from([0xc3, 0x28]), value: Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), expect: { reason: "invalid_unicode", truncated: false } },
  // Not JSON (never closed): raw text, a valid record.
  { name: "100,000 levels of [", value: Buffer.from(deepArray), expect: { docId: sha(Buffer.from(deepArray)) } },
  { name: "an object nested 40,000 levels deep", value: Buffer.from(`{"id":"deep-object","text":"deep","n":${"[".repeat(40_000)}${"]".repeat(40_000)}}`), expect: { docId: "deep-object" } },
  { name: "a message at the broker's size limit", value: atLimit, expect: { reason: "too_large", truncated: true } },
  { name: "200 headers of 500 bytes and a blank text", value: Buffer.from(JSON.stringify({ text: "  " })), headers, expect: { reason: "empty_text", truncated: false } },
];

beforeAll(async () => {
  await createTopicsWithLimit(kafka, [setup.input, setup.output, setup.dlq], 1, LIMIT);
  // Not idempotent: a refused send must leave no sequence state behind.
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  worker = await startParseWorker(setup);
});

afterAll(async () => {
  if (worker && worker.child.exitCode === null) worker.child.kill("SIGKILL");
  await producer?.disconnect();
});

async function send(value: Buffer, opts: { key?: Buffer; headers?: IHeaders } = {}): Promise<string> {
  const [meta] = await producer.send({ topic: setup.input, acks: -1, messages: [{ partition: 0, value, key: opts.key ?? null, headers: opts.headers }] });
  return meta!.baseOffset!;
}

async function deadByOffset(): Promise<Map<string, { key: string | null; record: DlqRecord }>> {
  const dead = await readTopic(kafka, setup.dlq);
  return new Map(dead.map((d) => [dlqRecordSchema.parse(JSON.parse(d.value)).source.offset, { key: d.key, record: dlqRecordSchema.parse(JSON.parse(d.value)) }]));
}

async function caughtUp(what: string) {
  await waitFor(what, async () => {
    if (worker.child.exitCode !== null) throw new Error(`the parse worker exited (${worker.child.exitCode}):\n${worker.output().slice(-4000)}`);
    return groupCaughtUp(kafka, setup.group, setup.input);
  }, 90_000);
}

describe("parse worker under hostile records (max.message.bytes 200 KB)", () => {
  it("a message exactly at the limit is accepted by the broker, one byte more is not", async () => {
    const probe = unique("hostile-probe");
    await createTopicsWithLimit(kafka, [probe], 1, LIMIT);
    await producer.send({ topic: probe, acks: -1, messages: [{ value: Buffer.alloc(LIMIT - FRAMING_AT_LIMIT, 0x61) }] });
    const err = await producer.send({ topic: probe, acks: -1, messages: [{ value: Buffer.alloc(LIMIT - FRAMING_AT_LIMIT + 1, 0x61) }] }).then(() => undefined, (e: unknown) => e);
    expect((err as { type?: string } | undefined)?.type).toBe("MESSAGE_TOO_LARGE");
    expect(atLimit.length).toBe(LIMIT - FRAMING_AT_LIMIT);
  });

  it("stays up, passes the ordinary record after each hostile one on, and dead-letters the hostile one with its reason and original bytes", async () => {
    const offsets = new Map<string, string>();
    for (const h of hostile) {
      offsets.set(h.name, await send(h.value, { key: h.key, headers: h.headers }));
      await send(ordinary(h.name));
    }
    await caughtUp("the worker to consume every hostile record and the ordinary ones after them");
    expect(worker.child.exitCode).toBeNull();

    const out = await readTopic(kafka, setup.output);
    const outKeys = out.map((r) => r.key);
    // Every ordinary record flowed on, in order.
    const ordinaryKeys = outKeys.filter((k) => k?.startsWith("after-"));
    expect(ordinaryKeys).toEqual(hostile.map((h) => `after-${h.name}`));
    const dead = await deadByOffset();
    for (const h of hostile) {
      const offset = offsets.get(h.name)!;
      if ("docId" in h.expect) {
        expect(outKeys, h.name).toContain(h.expect.docId);
        expect(dead.has(offset), h.name).toBe(false);
        continue;
      }
      const entry = dead.get(offset);
      expect(entry, `${h.name} in the DLQ`).toBeDefined();
      const { record, key } = entry!;
      expect(record).toMatchObject({ reason: h.expect.reason, stage: "parse", text: null, doc_id: null, source: { topic: setup.input, partition: 0, offset } });
      expect(record.source.timestamp).toBeGreaterThan(Date.now() / 1000 - 600);
      expect(key).toBe(h.key ? h.key.toString("utf8") : null);
      const original = record.original!;
      expect(original.value).toMatchObject({ size: h.value.length, sha256: sha(h.value), truncated: h.expect.truncated });
      if (h.expect.truncated) {
        const prefix = Buffer.from(original.value!.data!, "base64");
        expect(prefix.length).toBeGreaterThan(1000);
        expect(h.value.subarray(0, prefix.length).equals(prefix)).toBe(true);
      } else {
        expect(originalBytes(original.value)?.equals(h.value), h.name).toBe(true);
      }
      if (h.key && !h.expect.truncated) expect(originalBytes(original.key)?.equals(h.key)).toBe(true);
      const wantHeaders = Object.entries(h.headers ?? {}).map(([k, v]) => [k, (v as Buffer).toString("utf8")]);
      expect(original.headers.map((x) => [x.key, originalBytes(x.value)?.toString("utf8")])).toEqual(wantHeaders);
    }
    const health = await workerHealth(worker);
    expect(health).toMatchObject({ httpStatus: 200, body: { status: "ok", partitions: [] } });
  });

  it("dead-letters as too_large what the broker refuses after the output topic's limit was lowered at run time, and goes on", async () => {
    const abortedBefore = (await workerMetrics(worker)).transactions_aborted as number;
    await setTopicLimit(kafka, setup.output, 2_000);
    const big = Buffer.from(JSON.stringify({ id: "big-after-lowering", text: "y".repeat(5_000) }));
    const offset = await send(big);
    await send(ordinary("lowering"));
    await caughtUp("the worker to get past the record refused after the limit was lowered");
    expect(worker.child.exitCode).toBeNull();
    const entry = (await deadByOffset()).get(offset);
    expect(entry?.record).toMatchObject({ reason: "too_large", error: expect.stringContaining("over max.message.bytes 2000") });
    expect(originalBytes(entry!.record.original!.value)?.equals(big)).toBe(true);
    expect((await readTopic(kafka, setup.output)).map((r) => r.key)).toContain("after-lowering");
    // The worker's cached limit (re-read every 60 s) was the old one: the broker's refusal made it re-read.
    expect((await workerMetrics(worker)).transactions_aborted).toBeGreaterThan(abortedBefore);
  });

  it("says degraded with the partition, offset and reason while a dead letter cannot be written, and moves on once it can", async () => {
    await setTopicLimit(kafka, setup.dlq, 300);
    const blank = Buffer.from(JSON.stringify({ text: "   " }));
    const offset = await send(blank);
    await send(ordinary("a full DLQ"));
    const stalled = await waitFor("/health to say degraded", async () => {
      const h = await workerHealth(worker);
      return h.body.status === "degraded" ? h : undefined;
    }, 60_000);
    expect(stalled.httpStatus).toBe(200);
    expect(stalled.body.partitions).toEqual([expect.objectContaining({ topic: setup.input, partition: 0, offset, reason: expect.stringContaining("max.message.bytes") })]);

    await setTopicLimit(kafka, setup.dlq, LIMIT);
    await caughtUp("the worker to move on once the DLQ takes the record");
    expect((await deadByOffset()).get(offset)?.record).toMatchObject({ reason: "empty_text" });
    expect((await readTopic(kafka, setup.output)).map((r) => r.key)).toContain("after-a full DLQ");
    await waitFor("/health to say ok again", async () => (await workerHealth(worker)).body.status === "ok", 30_000);

    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  });
});
