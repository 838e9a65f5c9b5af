/**
 * Kafka itself goes away: the test runs its own broker (free ports, a temp data
 * dir), stops it in the middle of a run and starts it again on the same ports
 * and dir. Every input record must come out exactly once in `embeddings`
 * (read_committed) and exactly once across the Parquet files.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { parseStackConfig } from "../../lib/config/stack";
import { createKafka } from "../../lib/kafka/client";
import { ensureTopics } from "../../lib/kafka/topics";
import { createLogger } from "../../lib/log";
import { ensureKafkaInstalled, startLocalBroker, type LocalBroker } from "../../scripts/kafka/broker";
import { inputRecord, startWorker, type WorkerProcess } from "../harness/embed-worker";
import { freePort } from "../harness/free-port";
import { getJson } from "../harness/http";
import { waitUntilConsumed } from "../harness/kafka-topics";
import { readParquetDir } from "../harness/parquet";
import { produce } from "../harness/produce";
import { readCommitted } from "../harness/read-topic";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";
import { startInstantInfermesh } from "../doubles/instant-infermesh";

const log = createLogger("embed-broker-restart-test", "warn");
const cleanups: (() => Promise<unknown>)[] = [];
let failed = false;
let worker: WorkerProcess | undefined;
const brokerOutput: string[] = [];
afterAll(async () => {
  if (failed) process.stderr.write(`--- worker output\n${worker?.output().slice(-8000)}\n--- broker output\n${brokerOutput.slice(-30).join("\n")}\n`);
  for (const c of cleanups.reverse()) await c();
});

it("the broker restarted mid-run: every record exactly once in Kafka (read_committed) and across Parquet", { timeout: 480_000 }, async () => {
  try {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "embed-broker-"));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    // This test's own broker, even when the suite runs against an external cluster.
    const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: dataDir };
    delete env.KAFKA_BOOTSTRAP_SERVERS;
    const stack = parseStackConfig(env);
    const kafkaCfg = { ...stack.kafka, port: await freePort(), controllerPort: await freePort(), dir: path.join(dataDir, "kafka") };
    const classpath = await ensureKafkaInstalled(log);
    const startBroker = () => startLocalBroker(kafkaCfg, log, { classpath, onOutput: (line) => brokerOutput.push(line) > 200 && brokerOutput.shift() });
    let broker: LocalBroker = await startBroker();
    cleanups.push(() => broker.stop());
    const kafka = createKafka({ clientId: "embed-broker-restart-test", brokers: broker.brokers, log: createLogger("embed-broker-restart-kafka", "error") });

    // Slow enough (a model-like 250 ms per call, ~500 records/s) that the restart lands while units are in flight.
    const infermesh = await startInstantInfermesh({ delayMs: 250 });
    cleanups.push(() => infermesh.close());
    const parquetDir = path.join(dataDir, "parquet");
    const t = { input: unique("in"), output: unique("out"), dlq: unique("dlq"), group: unique("group") };
    await ensureTopics(kafka, [t.input, t.output, t.dlq], 3);

    const before = 6000;
    await produce(kafka, t.input, Array.from({ length: before }, (_, i) => inputRecord(i)));
    worker = await startWorker({
      KAFKA_BOOTSTRAP_SERVERS: broker.brokers.join(","), EMBED_INPUT_TOPIC: t.input, EMBED_OUTPUT_TOPIC: t.output, EMBED_DLQ_TOPIC: t.dlq, EMBED_GROUP: t.group,
      INFERMESH_URL: infermesh.url, EMBED_PARQUET_DIR: parquetDir, EMBED_CACHE_SIZE: "0",
    });
    cleanups.push(() => worker!.terminate());

    await waitFor("a quarter of the records committed", async () => Number((await getJson(`${worker!.metricsUrl}/metrics`)).records_out) >= before / 4, 180_000, 50);
    await broker.stop();
    // The run was really interrupted: records were still to come when the broker died.
    expect(Number((await getJson(`${worker.metricsUrl}/metrics`)).records_out)).toBeLessThan(before);
    // The outage itself: 10 s without a broker.
    await new Promise((r) => setTimeout(r, 10_000));
    broker = await startBroker();

    const after = 1000;
    await produce(kafka, t.input, Array.from({ length: after }, (_, i) => inputRecord(before + i)));
    const n = before + after;
    await waitUntilConsumed(kafka, t.group, t.input, 300_000);

    const out = await readCommitted(kafka, t.output);
    const ids = out.map((o) => String(o.value.doc_id));
    expect(new Set(ids).size).toBe(n);
    expect(ids).toHaveLength(n);
    expect(await readCommitted(kafka, t.dlq)).toHaveLength(0);
    const rows = readParquetDir(parquetDir);
    expect(new Set(rows.map((r) => `${r.source_partition}:${r.source_offset}`)).size).toBe(n);
    expect(rows).toHaveLength(n);
    await waitFor("/health back to ok", async () => (await getJson(`${worker!.metricsUrl}/health`)).status === "ok", 60_000);
  } catch (err) {
    failed = true;
    throw err;
  }
});
