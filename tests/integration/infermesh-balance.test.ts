/**
 * Two real embedding services (workers/infermesh, the real model) behind one
 * embed-worker (INFERMESH_URL=a,b): one is killed -9 in the middle of a
 * steady stream. Every record is still embedded exactly once (Kafka
 * read_committed), nothing is dead-lettered, no batch had to wait the outage
 * out (each call that met the dead instance was retried on the live one), the
 * embed-worker's /metrics shows the dead one ejected, and once it is started
 * again on its port it is probed back into rotation and takes calls again.
 */
import { expect, inject, it, afterAll } from "vitest";
import type { UpstreamSnapshot } from "../../lib/embedding/balancer";
import { createKafka } from "../../lib/kafka/client";
import { ensureTopics } from "../../lib/kafka/topics";
import { createLogger } from "../../lib/log";
import { inputRecord, type RealInfermesh, startRealInfermesh, startWorker, type WorkerProcess } from "../harness/embed-worker";
import { getJson } from "../harness/http";
import { waitUntilConsumed } from "../harness/kafka-topics";
import { produce } from "../harness/produce";
import { readCommitted } from "../harness/read-topic";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";

const brokers = inject("kafkaBrokers");
const kafka = createKafka({ clientId: "infermesh-balance-test", brokers, log: createLogger("infermesh-balance-test", "error") });
const cleanups: (() => Promise<unknown>)[] = [];
let failed = false;
let worker: WorkerProcess | undefined;
let services: RealInfermesh[] = [];
afterAll(async () => {
  if (failed) {
    process.stderr.write(`--- worker output\n${worker?.output().slice(-6000)}\n`);
    services.forEach((s, i) => process.stderr.write(`--- embedding service ${i} output\n${s.output().slice(-2000)}\n`));
  }
  for (const c of cleanups.reverse()) await c();
});

interface Metrics {
  records_out: number;
  dlq_records: number;
  infermesh_failures: number;
  upstreams: UpstreamSnapshot[];
}

it("one of two real embedding services killed -9 mid-stream: every record embedded once, the dead one ejected, back in rotation when restarted", { timeout: 600_000 }, async () => {
  try {
    services = await Promise.all([startRealInfermesh(), startRealInfermesh()]);
    cleanups.push(() => Promise.all(services.map((s) => s.stop())));
    const [a, b] = services as [RealInfermesh, RealInfermesh];
    const t = { input: unique("in"), output: unique("out"), dlq: unique("dlq"), group: unique("group") };
    await ensureTopics(kafka, [t.input, t.output, t.dlq], 3);
    worker = await startWorker({
      KAFKA_BOOTSTRAP_SERVERS: brokers.join(","), EMBED_INPUT_TOPIC: t.input, EMBED_OUTPUT_TOPIC: t.output, EMBED_DLQ_TOPIC: t.dlq, EMBED_GROUP: t.group,
      INFERMESH_URL: `${a.url},${b.url}`, EMBED_WRITE_PARQUET: "0",
      // Every record really goes to a service.
      EMBED_CACHE_SIZE: "0",
    });
    cleanups.push(() => worker!.terminate());
    const metrics = () => getJson<Metrics>(`${worker!.metricsUrl}/metrics`);

    // A steady flow that goes on through the kill.
    const n = 800;
    const producing = (async () => {
      for (let i = 0; i < n; i += 40) {
        await produce(kafka, t.input, Array.from({ length: 40 }, (_, j) => inputRecord(i + j)), (k) => `k${i + k}`);
        await new Promise((r) => setTimeout(r, 400));
      }
    })();

    // Both take calls while both are up.
    await waitFor("both services taking calls", async () => {
      const m = await metrics();
      return m.records_out >= 100 && m.upstreams.every((u) => u.requests >= 2);
    }, 180_000, 100);
    const before = await metrics();
    expect(before.upstreams.map((u) => u.url)).toEqual([a.url, b.url]);
    expect(before.upstreams.map((u) => u.state)).toEqual(["up", "up"]);

    process.kill(-a.pid()!, "SIGKILL");
    const ejected = await waitFor("the killed service shown ejected", async () => {
      const m = await metrics();
      return m.upstreams[0]!.state === "ejected" ? m : undefined;
    }, 60_000, 100);
    expect(ejected.upstreams[0]!.ejections).toBe(1);
    expect(ejected.upstreams[0]!.failures).toBeGreaterThanOrEqual(1);
    expect(ejected.upstreams[1]!.state).toBe("up");

    // Records keep flowing through b alone.
    const whileDead = ejected.records_out;
    await waitFor("records embedded while a is dead", async () => (await metrics()).records_out >= whileDead + 80, 120_000, 100);
    expect((await metrics()).upstreams[0]!.state).toBe("ejected");

    // Started again on its port: a probe brings it back, and it takes calls again.
    await a.start();
    const back = await waitFor("the restarted service back in rotation", async () => {
      const m = await metrics();
      return m.upstreams[0]!.state === "up" ? m : undefined;
    }, 90_000, 100);
    await producing;
    // More records after its return: some go to a.
    await produce(kafka, t.input, Array.from({ length: 80 }, (_, j) => inputRecord(n + j)), (k) => `k${n + k}`);
    const total = n + 80;
    await waitUntilConsumed(kafka, t.group, t.input, 240_000);
    const end = await metrics();
    expect(end.upstreams[0]!.requests).toBeGreaterThan(back.upstreams[0]!.requests);
    expect(end.upstreams.map((u) => u.state)).toEqual(["up", "up"]);
    // No batch had to wait: each call that met the dead service was retried on the live one at once.
    expect(end).toMatchObject({ records_out: total, dlq_records: 0, infermesh_failures: 0 });

    const out = await readCommitted(kafka, t.output);
    const ids = out.map((o) => String(o.value.doc_id));
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    expect(out.every((o) => (o.value.vector as number[]).length === 384 && o.value.dim === 384)).toBe(true);
    expect(await readCommitted(kafka, t.dlq)).toHaveLength(0);
  } catch (err) {
    failed = true;
    throw err;
  }
});
