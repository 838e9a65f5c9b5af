/**
 * Outages are waited out, with the real embedding service and the real model:
 * workers/infermesh is stopped for 20 s in the middle of a run and started
 * again. Everything arrives exactly once (Kafka read_committed and Parquet),
 * nothing is dead-lettered, and /health said `degraded` meanwhile.
 */
import { expect, it } from "vitest";
import { inputRecord, startRealInfermesh, startWorker } from "../harness/embed-worker";
import { getJson } from "../harness/http";
import { waitUntilConsumed } from "../harness/kafka-topics";
import { produce } from "../harness/produce";
import { waitFor } from "../harness/wait-for";
import { embedWorkerSuite } from "./embed-worker-suite";

const OUTAGE_MS = 20_000;
// The real embedding service, not the file's instant one.
const suite = embedWorkerSuite("embed-outage-test", { infermesh: false });
const { kafka, workers } = suite;

it("the real embedding service stopped for 20 s mid-run: everything arrives exactly once, the DLQ stays empty, /health said degraded", { timeout: 420_000 }, async () => {
  const infermesh = await startRealInfermesh();
  suite.release(() => infermesh.stop());
  suite.printOnFailure("embedding service output", () => infermesh.output());
  const parquetDir = suite.tmpDir("embed-outage-");
  const t = await suite.topics();
  // Every record really goes to the model, also when redone.
  const worker = await startWorker(suite.workerEnv(t, { INFERMESH_URL: infermesh.url, EMBED_PARQUET_DIR: parquetDir, EMBED_CACHE_SIZE: "0" }));
  workers.push(worker);

  // A steady flow that goes on through the outage.
  const n = 1200;
  const producing = (async () => {
    for (let i = 0; i < n; i += 40) {
      await produce(kafka, t.input, Array.from({ length: 40 }, (_, j) => inputRecord(i + j)), (k) => `k${i + k}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();

  await waitFor("some records embedded before the outage", async () => Number((await getJson(`${worker.metricsUrl}/metrics`)).records_out) >= 200, 120_000, 100);
  await infermesh.stop();
  const outageStart = Date.now();
  const seen: { status: string; reasons: { component: string; reason: string }[] }[] = [];
  // Watch /health for the length of the outage (this is the outage, not a wait for something).
  while (Date.now() - outageStart < OUTAGE_MS) {
    seen.push(await getJson(`${worker.metricsUrl}/health`));
    await new Promise((r) => setTimeout(r, 250));
  }
  const duringOutage = await getJson(`${worker.metricsUrl}/metrics`);
  await infermesh.start();

  const degraded = seen.find((h) => h.status === "degraded");
  expect(degraded?.reasons.some((r) => r.component === "embedding")).toBe(true);
  // Degraded throughout once noticed: nothing in between claimed all was well.
  expect(seen.slice(seen.indexOf(degraded!)).every((h) => h.status === "degraded")).toBe(true);
  expect(Number(duringOutage.infermesh_failures)).toBeGreaterThan(0);

  await producing;
  await waitUntilConsumed(kafka, t.group, t.input, 240_000);
  await waitFor("/health back to ok", async () => (await getJson(`${worker.metricsUrl}/health`)).status === "ok", 60_000);
  const metrics = await getJson(`${worker.metricsUrl}/metrics`);
  expect(metrics).toMatchObject({ dlq_records: 0, records_out: n });

  const out = await suite.expectExactlyOnce(t, n, parquetDir);
  expect(out.every((o) => (o.value.vector as number[]).length === 384 && o.value.dim === 384)).toBe(true);
});
