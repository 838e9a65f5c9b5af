/**
 * Exactly once through crashes: the worker is killed with SIGKILL at random
 * moments while 5,000 records flow, and restarted each time. Every input must
 * appear exactly once in `embeddings` (read_committed) and exactly once across
 * the Parquet files; nothing may reach the DLQ.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, inject, it } from "vitest";
import { createKafka } from "../../lib/kafka/client";
import { ensureTopics } from "../../lib/kafka/topics";
import { createLogger } from "../../lib/log";
import { startInstantInfermesh } from "../doubles/instant-infermesh";
import { inputRecord, startWorker, type WorkerProcess } from "../harness/embed-worker";
import { getJson } from "../harness/http";
import { waitUntilConsumed } from "../harness/kafka-topics";
import { readParquetDir } from "../harness/parquet";
import { produce } from "../harness/produce";
import { readCommitted } from "../harness/read-topic";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";

const brokers = inject("kafkaBrokers");
const kafka = createKafka({ clientId: "embed-crash-test", brokers, log: createLogger("embed-crash-test", "error") });
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

it("kill -9 three times during 5,000 records: every record exactly once in Kafka and Parquet, nothing in the DLQ", { timeout: 300_000 }, async () => {
  const infermesh = await startInstantInfermesh();
  cleanups.push(() => infermesh.close());
  const parquetDir = mkdtempSync(path.join(os.tmpdir(), "embed-crash-"));
  cleanups.push(async () => rmSync(parquetDir, { recursive: true, force: true }));
  const t = { input: unique("in"), output: unique("out"), dlq: unique("dlq"), group: unique("group") };
  await ensureTopics(kafka, [t.input, t.output, t.dlq], 3);
  const env = {
    KAFKA_BOOTSTRAP_SERVERS: brokers.join(","),
    EMBED_INPUT_TOPIC: t.input,
    EMBED_OUTPUT_TOPIC: t.output,
    EMBED_DLQ_TOPIC: t.dlq,
    EMBED_GROUP: t.group,
    INFERMESH_URL: infermesh.url,
    EMBED_PARQUET_DIR: parquetDir,
    // No cache, so a redone unit is really embedded again.
    EMBED_CACHE_SIZE: "0",
  };
  const n = 5000;
  let worker: WorkerProcess = await startWorker(env);
  cleanups.push(() => worker.terminate());
  const producing = (async () => {
    // A steady flow, so the kills land while records arrive and units are in flight.
    for (let i = 0; i < n; i += 250) {
      await produce(kafka, t.input, Array.from({ length: 250 }, (_, j) => inputRecord(i + j)), (k) => `k${i + k}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  for (let kill = 1; kill <= 3; kill++) {
    // Each kill after a random amount of progress since the last start.
    const target = Math.floor(((kill - 0.5 + Math.random() * 0.5) * n) / 4);
    await waitFor(`progress past ${target} records before kill ${kill}`, async () => {
      const offsets = await committedTotal(t.group, t.input);
      return offsets >= target;
    }, 120_000, 50);
    await worker.kill9();
    worker = await startWorker(env);
  }
  await producing;
  await waitUntilConsumed(kafka, t.group, t.input, 180_000);
  const metrics = await getJson(`${worker.metricsUrl}/metrics`);
  expect(metrics.dlq_records).toBe(0);

  const out = await readCommitted(kafka, t.output);
  const ids = out.map((o) => String(o.value.doc_id));
  expect(new Set(ids).size).toBe(n);
  expect(ids).toHaveLength(n);
  expect(await readCommitted(kafka, t.dlq)).toHaveLength(0);

  const rows = readParquetDir(parquetDir);
  const keys = rows.map((r) => String(r.doc_id));
  expect(new Set(keys).size).toBe(n);
  expect(keys).toHaveLength(n);
});

async function committedTotal(group: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return (entry?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}
