/**
 * Hostile records through the embed-worker, a real process against the test
 * broker and an instant InferMesh test double: each must end in embeddings_dlq
 * with its reason and its original bytes (or embed, where it is merely odd),
 * the worker must stay up, and the ordinary records after it on the same
 * partition must flow on. Also: a size limit lowered under a running worker,
 * and /health while a partition does not advance.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TopicLimits, payloadBudget } from "../../lib/kafka/record-limits";
import { dlqRecordSchema, type DlqBytes } from "../../lib/records/dlq-record";
import { ReddbClient } from "../../lib/reddb/client";
import { inputRecord, startReddb, startWorker } from "../harness/embed-worker";
import { getJson } from "../harness/http";
import { alterTopicConfig, waitUntilConsumed } from "../harness/kafka-topics";
import { readParquetDir } from "../harness/parquet";
import { produce } from "../harness/produce";
import { readCommitted } from "../harness/read-topic";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";
import { embedWorkerSuite } from "./embed-worker-suite";

const suite = embedWorkerSuite("embed-hostile-test");
const { kafka, workers } = suite;

/** The output topic's limit in these tests: small, so records that outgrow it are cheap to make. */
const OUTPUT_MAX_MESSAGE_BYTES = 64 * 1024;

async function setup(env: Record<string, string> = {}) {
  const t = await suite.topics();
  await alterTopicConfig(kafka, t.output, { "max.message.bytes": String(OUTPUT_MAX_MESSAGE_BYTES) });
  const parquetDir = suite.tmpDir("embed-hostile-");
  return { ...t, parquetDir, workerEnv: suite.workerEnv(t, { EMBED_PARQUET_DIR: parquetDir, ...env }) };
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** The DLQ's copy of some bytes is those bytes: whole (UTF-8 or base64), or a prefix with their size and sha256. */
function expectSameBytes(kept: DlqBytes | null | undefined, bytes: Buffer) {
  expect(kept).toBeTruthy();
  expect(kept!.size).toBe(bytes.length);
  expect(kept!.sha256).toBe(sha256(bytes));
  const data = Buffer.from(kept!.data!, kept!.encoding);
  if (kept!.truncated) {
    expect(data.length).toBeGreaterThan(0);
    expect(data.equals(bytes.subarray(0, data.length))).toBe(true);
  } else {
    expect(data.equals(bytes)).toBe(true);
  }
}

describe("embed-worker with hostile records", () => {
  it("dead-letters each hostile record with its reason and original bytes, stays up, and the records after it flow on", async () => {
    const t = await setup();
    const admin = kafka.admin();
    await admin.connect();
    const inputLimit = await new TopicLimits(admin).maxMessageBytes(t.input);
    await admin.disconnect();
    const key = "same-key";
    // A value that, keyed by `key`, makes a record batch as large as the input topic accepts.
    const atLimitPadding = payloadBudget(inputLimit) - Buffer.byteLength(key) - JSON.stringify({ text: "", doc_id: "at-limit" }).length;
    const half = Math.floor(atLimitPadding / 2);
    const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
    const hostile: { what: string; value: Buffer; expect: "ok" | string; docId?: string }[] = [
      // 15,000 bytes of control characters pass EMBED_MAX_TEXT_BYTES (64 KiB), and grow six-fold as JSON (\u0001).
      { what: "text that outgrows max.message.bytes only once JSON-escaped", value: Buffer.from(JSON.stringify({ text: "\u0001\u0002\u001f".repeat(5000), doc_id: "escapes" })), expect: "too_large", docId: "escapes" },
      { what: "a 3,000-character doc_id", value: Buffer.from(JSON.stringify({ text: "an ordinary text with a very long id", doc_id: "i".repeat(3000) })), expect: "ok", docId: "i".repeat(3000) },
      { what: "invalid UTF-8", value: Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]), expect: "invalid_unicode" },
      { what: "deeply nested JSON (100,000 levels)", value: Buffer.from(nested(100_000)), expect: "invalid_json" },
      { what: "deeply nested JSON beside a text", value: Buffer.from(`{"text":"nested but fine","doc_id":"nested-ok","x":${nested(50_000)}}`), expect: "ok", docId: "nested-ok" },
      { what: "a message at the input topic's size limit", value: Buffer.from(JSON.stringify({ text: "a".repeat(atLimitPadding), doc_id: "at-limit" })), expect: "text_too_large", docId: "at-limit" },
      { what: "not JSON", value: Buffer.from("this is { not json"), expect: "invalid_json" },
      // At the limit too, but in fields a DLQ record repeats: it cannot keep them beside its own.
      { what: "a message at the size limit made of its doc_id and topic", value: Buffer.from(JSON.stringify({ text: "x", topic: "t".repeat(half), doc_id: "d".repeat(half - 12) })), expect: "too_large" },
    ];
    // Each hostile record is followed by an ordinary one, all on one partition (one key).
    const values = hostile.flatMap((h, i) => [h.value, Buffer.from(inputRecord(i))]);
    await produce(kafka, t.input, values, () => key);
    const worker = await startWorker(t.workerEnv);
    workers.push(worker);
    await waitUntilConsumed(kafka, t.group, t.input, 180_000);

    expect(worker.child.exitCode).toBeNull();
    const health = await fetch(`${worker.metricsUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", partitions: [] });

    const out = await readCommitted(kafka, t.output);
    const dlq = await readCommitted(kafka, t.dlq);
    const ordinary = hostile.map((_, i) => `doc-${i}`);
    const embedded = hostile.filter((h) => h.expect === "ok").map((h) => h.docId!);
    expect(out.map((o) => o.value.doc_id).sort()).toEqual([...ordinary, ...embedded].sort());
    expect(out.find((o) => o.value.doc_id === "i".repeat(3000))?.key).toBe("i".repeat(3000));
    const rows = readParquetDir(t.parquetDir);
    expect(rows.map((r) => r.doc_id).sort()).toEqual([...ordinary, ...embedded].sort());

    const dead = hostile.map((h, i) => ({ ...h, offset: String(2 * i) })).filter((h) => h.expect !== "ok");
    expect(dlq).toHaveLength(dead.length);
    // One input partition held them all, hostile and ordinary in turn.
    expect(new Set(dlq.map((d) => (d.value.source as { partition: number }).partition)).size).toBe(1);
    for (const h of dead) {
      const entry = dlq.find((d) => (d.value.source as { offset: string }).offset === h.offset);
      expect(entry, h.what).toBeDefined();
      const record = dlqRecordSchema.parse(entry!.value);
      expect(record, h.what).toMatchObject({ reason: h.expect, stage: "embed", source: { topic: t.input, offset: h.offset, timestamp: expect.any(Number) } });
      if (h.docId) expect(record.doc_id, h.what).toBe(h.docId);
      expectSameBytes(record.original?.value, h.value);
      expectSameBytes(record.original?.key, Buffer.from(key));
    }
    // The message at the limit cannot fit whole beside the DLQ record's own fields: a prefix, its size and hash.
    const atLimit = dlqRecordSchema.parse(dlq.find((d) => d.value.doc_id === "at-limit")!.value);
    expect(atLimit.original?.value?.truncated).toBe(true);
    // Its doc_id and topic are left out of the record (null); the original keeps a prefix, size and hash.
    const fields = dlqRecordSchema.parse(dlq.find((d) => (d.value.source as { offset: string }).offset === dead.find((h) => h.what.includes("doc_id and topic"))!.offset)!.value);
    expect(fields).toMatchObject({ doc_id: null, topic: null, text: null });
    expect(fields.original?.value?.truncated).toBe(true);
    const escapes = dlqRecordSchema.parse(dlq.find((d) => d.value.doc_id === "escapes")!.value);
    expect(escapes.error).toMatch(new RegExp(`max\\.message\\.bytes of ${OUTPUT_MAX_MESSAGE_BYTES}`));
    expect(escapes.original?.value?.encoding).toBe("utf8");

    const metrics = await getJson(`${worker.metricsUrl}/metrics`);
    expect(metrics).toMatchObject({ records_in: values.length, records_out: out.length, dlq_records: dead.length });
    expect(await worker.terminate()).toBe(0);
  });

  it("dead-letters records as too_large once the output topic's limit is lowered under the running worker, and says degraded while paused", async () => {
    const t = await setup();
    const worker = await startWorker(t.workerEnv);
    workers.push(worker);
    await produce(kafka, t.input, Array.from({ length: 5 }, (_, i) => inputRecord(i)), () => "k");
    await waitUntilConsumed(kafka, t.group, t.input);

    expect(await getJson(`${worker.metricsUrl}/pause`, { method: "POST" })).toEqual({ ok: true, paused: true });
    const paused = await fetch(`${worker.metricsUrl}/health`);
    expect(paused.status).toBe(200);
    const pausedHealth = (await paused.json()) as { status: string; partitions: { partition: number; offset: string | null; reason: string }[] };
    expect(pausedHealth.status).toBe("degraded");
    expect(pausedHealth.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(pausedHealth.partitions.every((p) => p.reason === "paused by an operator")).toBe(true);
    // The partition that took the 5 records stands at offset 5.
    expect(pausedHealth.partitions.map((p) => p.offset)).toContain("5");

    // An embedding record of 384 dimensions is ~4 KB: none fits any more. The
    // worker read 64 KiB at start and still believes it: the broker refuses, the
    // worker reads the limit again and dead-letters what does not fit.
    await alterTopicConfig(kafka, t.output, { "max.message.bytes": "2048" });
    await getJson(`${worker.metricsUrl}/resume`, { method: "POST" });
    await produce(kafka, t.input, Array.from({ length: 5 }, (_, i) => inputRecord(100 + i)), () => "k");
    await waitUntilConsumed(kafka, t.group, t.input, 120_000);
    await waitFor("/health to say ok again", async () => (await getJson(`${worker.metricsUrl}/health`)).status === "ok", 30_000);

    const out = await readCommitted(kafka, t.output);
    const dlq = await readCommitted(kafka, t.dlq);
    expect(out.map((o) => o.value.doc_id).sort()).toEqual(Array.from({ length: 5 }, (_, i) => `doc-${i}`).sort());
    expect(dlq.map((d) => d.value.doc_id).sort()).toEqual(Array.from({ length: 5 }, (_, i) => `doc-${100 + i}`).sort());
    for (const d of dlq) {
      const record = dlqRecordSchema.parse(d.value);
      expect(record).toMatchObject({ reason: "too_large", stage: "embed" });
      expect(record.error).toMatch(/max\.message\.bytes of 2048/);
      expectSameBytes(record.original?.value, Buffer.from(inputRecord(Number(record.doc_id!.slice(4)))));
    }
    // The worker still believed 64 KiB when it sent: the broker's refusal made it read the limit again.
    expect(Number((await getJson(`${worker.metricsUrl}/metrics`)).transaction_failures)).toBeGreaterThanOrEqual(1);
    expect(worker.child.exitCode).toBeNull();
  });

  it("with RedDB: a doc_id over RedDB's key limit still embeds to Kafka and Parquet, and its DLQ record — in Kafka and RedDB's DLQ stream — says RedDB lacks it", async () => {
    const reddb = await startReddb();
    try {
      const streams = { records: unique("reddb-records"), dlq: unique("reddb-dlq") };
      const t = await setup({ REDDB_URL: reddb.url, REDDB_NAMESPACE: "it", REDDB_MODE: "both", REDDB_STREAM: streams.records, REDDB_DLQ_STREAM: streams.dlq });
      const longId = "r".repeat(3000);
      const longValue = JSON.stringify({ text: "a text whose id no LMDB key can hold", doc_id: longId });
      await produce(kafka, t.input, [inputRecord(0), longValue, inputRecord(1), "{not json"], () => "k");
      const worker = await startWorker(t.workerEnv);
      workers.push(worker);
      await waitUntilConsumed(kafka, t.group, t.input, 120_000);
      expect(worker.child.exitCode).toBeNull();
      expect((await getJson(`${worker.metricsUrl}/health`)).status).toBe("ok");

      const out = await readCommitted(kafka, t.output);
      expect(out.map((o) => o.value.doc_id).sort()).toEqual(["doc-0", "doc-1", longId].sort());
      expect(readParquetDir(t.parquetDir).map((r) => r.doc_id).sort()).toEqual(["doc-0", "doc-1", longId].sort());
      const dlq = await readCommitted(kafka, t.dlq);
      expect(dlq.map((d) => d.value.reason).sort()).toEqual(["doc_id_too_long", "invalid_json"]);
      const tooLong = dlqRecordSchema.parse(dlq.find((d) => d.value.reason === "doc_id_too_long")!.value);
      expect(tooLong).toMatchObject({ doc_id: longId, stage: "embed", error: expect.stringMatching(/RedDB refused.*414/) });
      expectSameBytes(tooLong.original?.value, Buffer.from(longValue));

      const db = new ReddbClient({ url: reddb.url });
      try {
        expect(await db.getKv("it", "embedding:doc-0")).toMatchObject({ doc_id: "doc-0" });
        // RedDB's DLQ stream holds the same records as the Kafka DLQ topic.
        const inReddb = (await db.read("it", streams.dlq, 0, 100)).map((e) => e.value);
        expect(inReddb).toHaveLength(2);
        for (const d of dlq) expect(inReddb).toContainEqual(d.value);
      } finally {
        await db.close();
      }
    } finally {
      await reddb.close();
    }
  });
});
