/**
 * The embed-worker's consumer against the real broker, in this process so one
 * record can be made to fail in a way no rule classifies: in the embed step
 * (before anything is written) and in the Parquet write (inside the commit).
 * Each unit is retried a bounded number of times, then split into single
 * records; the record that keeps failing is dead-lettered as `unprocessable`
 * with its original, every other record is committed exactly once, /health says
 * which partition is not advancing meanwhile, and nothing loops for good.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, inject, it } from "vitest";
import { createKafka } from "../../lib/kafka/client";
import { TopicLimits } from "../../lib/kafka/record-limits";
import { ensureTopics } from "../../lib/kafka/topics";
import { createLogger } from "../../lib/log";
import { ParquetSink, type EmbeddingRow } from "../../lib/parquet";
import { dlqRecordSchema } from "../../lib/records/dlq-record";
import { Batcher } from "../../workers/embed/batcher";
import { EmbedConsumer } from "../../workers/embed/consumer";
import { MAX_UNIT_ATTEMPTS } from "../../workers/embed/failures";
import { Health, type PartitionStall } from "../../workers/embed/health";
import { PartitionOwners } from "../../workers/embed/partition-owners";
import type { EmbedOutcome } from "../../workers/embed/resilient-embed";
import { WorkerStats } from "../../workers/embed/stats";
import { inputRecord } from "../harness/embed-worker";
import { waitUntilConsumed } from "../harness/kafka-topics";
import { readParquetDir } from "../harness/parquet";
import { produce } from "../harness/produce";
import { readCommitted } from "../harness/read-topic";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";

const brokers = inject("kafkaBrokers");
const log = createLogger("embed-isolation-test", "warn");
const kafka = createKafka({ clientId: "embed-isolation-test", brokers, log });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A text the embed step cannot handle, for no reason any rule knows (as a bug in a client would). */
const POISON_EMBED = "poison in the embed step";
/** A doc_id whose Parquet write fails, again for no known reason. */
const POISON_COMMIT = "poison-in-the-commit";

/**
 * The Parquet sink, failing for one row as an encoder bug would; every other
 * row is written for real.
 */
class ParquetFailingFor extends ParquetSink {
  override async write(range: Parameters<ParquetSink["write"]>[0], rows: readonly EmbeddingRow[], beforeRename?: () => void): Promise<string> {
    if (rows.some((r) => r.doc_id === POISON_COMMIT)) throw new TypeError("cannot read properties of undefined (reading 'buffer')");
    return super.write(range, rows, beforeRename);
  }
}

it("retries a failing unit a bounded number of times, isolates it record by record and dead-letters only the record that keeps failing", { timeout: 240_000 }, async () => {
  const t = { input: unique("in"), output: unique("out"), dlq: unique("dlq"), group: unique("group") };
  await ensureTopics(kafka, [t.input, t.output, t.dlq], 1);
  const parquetDir = mkdtempSync(path.join(os.tmpdir(), "embed-isolation-"));
  cleanups.push(async () => rmSync(parquetDir, { recursive: true, force: true }));

  const values = [
    inputRecord(0),
    inputRecord(1),
    JSON.stringify({ text: POISON_EMBED, doc_id: "poison-embed" }),
    inputRecord(3),
    JSON.stringify({ text: "fine text, failing id", doc_id: POISON_COMMIT }),
    inputRecord(5),
  ];
  await produce(kafka, t.input, values, () => "k");

  const parquet = new ParquetFailingFor(parquetDir, true);
  await parquet.init();
  const admin = kafka.admin();
  await admin.connect();
  const shutdown = new AbortController();
  const health = new Health();
  const stats = new WorkerStats();
  // Stands in for the embedding step (ResilientEmbedder): vectors for all, a TypeError for the poison.
  const embed = async (texts: string[]): Promise<EmbedOutcome[]> => {
    if (texts.includes(POISON_EMBED)) throw new TypeError("cannot read properties of undefined (reading 'embedding')");
    return texts.map((text) => ({ ok: true, vector: [text.length, 1], model: "m" }));
  };
  const owners = new PartitionOwners(kafka, admin, t.group, parquet, log);
  const consumer = new EmbedConsumer({
    kafka,
    inputTopic: t.input,
    group: t.group,
    unit: {
      batcher: new Batcher(embed, { size: 64, maxWaitMs: 20, maxInFlight: 1 }),
      parquet,
      limits: new TopicLimits(admin),
      outputTopic: t.output,
      dlqTopic: t.dlq,
      group: t.group,
      normalize: false,
      storeText: true,
      maxTextBytes: 65536,
    },
    owners,
    stats,
    health,
    log,
    signal: shutdown.signal,
  });
  cleanups.push(async () => {
    await consumer.consumer.disconnect();
    shutdown.abort();
    await owners.closeAll();
    await parquet.close();
    await admin.disconnect();
  });
  // What /health lists, watched while the partition works through it (not a wait for time to pass).
  const seen: PartitionStall[] = [];
  const watching = setInterval(() => seen.push(...health.snapshot().partitions), 100);
  cleanups.push(async () => clearInterval(watching));

  await consumer.start();
  await waitUntilConsumed(kafka, t.group, t.input, 180_000);
  await waitFor("the partition to advance again in /health", () => health.snapshot().partitions.length === 0 && health.snapshot().status === "ok", 10_000);

  const out = await readCommitted(kafka, t.output);
  expect(out.map((o) => o.value.doc_id).sort()).toEqual(["doc-0", "doc-1", "doc-3", "doc-5"]);
  expect(readParquetDir(parquetDir).map((r) => r.doc_id).sort()).toEqual(["doc-0", "doc-1", "doc-3", "doc-5"]);

  const dlq = (await readCommitted(kafka, t.dlq)).map((d) => dlqRecordSchema.parse(d.value));
  expect(dlq.map((d) => d.source.offset)).toEqual(["2", "4"]);
  for (const [i, d] of dlq.entries()) {
    expect(d).toMatchObject({ reason: "unprocessable", stage: "embed", attempts: MAX_UNIT_ATTEMPTS, source: { topic: t.input, partition: 0 } });
    expect(d.original?.value?.data).toBe(values[Number(d.source.offset)]);
    expect(d.error).toMatch(i === 0 ? /reading 'embedding'/ : /reading 'buffer'/);
  }
  expect(dlq[0]!.doc_id).toBe("poison-embed");
  expect(dlq[1]!.doc_id).toBe(POISON_COMMIT);

  // /health said which partition stood still, where, and why, while it did.
  expect(seen.some((s) => s.partition === 0 && s.offset === "2" && /attempt \d of 3 failed: transform failed/.test(s.reason))).toBe(true);
  expect(seen.some((s) => /isolating records/.test(s.reason))).toBe(true);
  expect(seen.some((s) => s.offset === "4" && /commit failed/.test(s.reason))).toBe(true);
  expect(stats.dlqRecords).toBe(2);
});
