/**
 * Exactly once through crashes: the worker is killed with SIGKILL at random
 * moments while 5,000 records flow, and restarted each time. Every input must
 * appear exactly once in `embeddings` (read_committed) and exactly once across
 * the Parquet files; nothing may reach the DLQ.
 */
import { expect, it } from "vitest";
import { inputRecord, startWorker, type WorkerProcess } from "../harness/embed-worker";
import { getJson } from "../harness/http";
import { waitUntilConsumed } from "../harness/kafka-topics";
import { produce } from "../harness/produce";
import { waitFor } from "../harness/wait-for";
import { embedWorkerSuite } from "./embed-worker-suite";

const suite = embedWorkerSuite("embed-crash-test");
const { kafka, workers } = suite;

it("kill -9 three times during 5,000 records: every record exactly once in Kafka and Parquet, nothing in the DLQ", { timeout: 300_000 }, async () => {
  const parquetDir = suite.tmpDir("embed-crash-");
  const t = await suite.topics();
  // No cache, so a redone unit is really embedded again.
  const env = suite.workerEnv(t, { EMBED_PARQUET_DIR: parquetDir, EMBED_CACHE_SIZE: "0" });
  const n = 5000;
  let worker: WorkerProcess = await startWorker(env);
  workers.push(worker);
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
    workers.push(worker);
  }
  await producing;
  await waitUntilConsumed(kafka, t.group, t.input, 180_000);
  const metrics = await getJson(`${worker.metricsUrl}/metrics`);
  expect(metrics.dlq_records).toBe(0);

  await suite.expectExactlyOnce(t, n, parquetDir);
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
