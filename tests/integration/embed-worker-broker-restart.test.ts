/**
 * Kafka itself goes away: the test runs its own broker (free ports, a temp data
 * dir), stops it in the middle of a run and starts it again on the same ports
 * and dir. Every input record must come out exactly once in `embeddings`
 * (read_committed) and exactly once across the Parquet files.
 */
import path from "node:path";
import { expect, it } from "vitest";
import { parseStackConfig } from "../../lib/config/stack";
import { createKafka } from "../../lib/kafka/client";
import { createLogger } from "../../lib/log";
import { ensureKafkaInstalled, startLocalBroker, type LocalBroker } from "../../scripts/kafka/broker";
import { inputRecord, startWorker } from "../harness/embed-worker";
import { freePort } from "../harness/free-port";
import { getJson } from "../harness/http";
import { waitUntilConsumed } from "../harness/kafka-topics";
import { produce } from "../harness/produce";
import { waitFor } from "../harness/wait-for";
import { embedWorkerSuite } from "./embed-worker-suite";

const log = createLogger("embed-broker-restart-test", "warn");
// Slow enough (a model-like 250 ms per call, ~500 records/s) that the restart lands while units are in flight.
const suite = embedWorkerSuite("embed-broker-restart-test", { infermesh: { delayMs: 250 } });

it("the broker restarted mid-run: every record exactly once in Kafka (read_committed) and across Parquet", { timeout: 480_000 }, async () => {
  const dataDir = suite.tmpDir("embed-broker-");
  const brokerOutput: string[] = [];
  // This test's own broker, even when the suite runs against an external cluster.
  const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: dataDir };
  delete env.KAFKA_BOOTSTRAP_SERVERS;
  const stack = parseStackConfig(env);
  const kafkaCfg = { ...stack.kafka, port: await freePort(), controllerPort: await freePort(), dir: path.join(dataDir, "kafka") };
  const classpath = await ensureKafkaInstalled(log);
  const startBroker = () => startLocalBroker(kafkaCfg, log, { classpath, onOutput: (line) => brokerOutput.push(line) > 200 && brokerOutput.shift() });
  let broker: LocalBroker = await startBroker();
  suite.release(() => broker.stop());
  suite.printOnFailure("broker output", () => brokerOutput.slice(-30).join("\n"));
  const kafka = createKafka({ clientId: "embed-broker-restart-test", brokers: broker.brokers, log: createLogger("embed-broker-restart-kafka", "error") });

  const parquetDir = path.join(dataDir, "parquet");
  const t = await suite.topics(3, kafka);

  const before = 6000;
  await produce(kafka, t.input, Array.from({ length: before }, (_, i) => inputRecord(i)));
  const worker = await startWorker(suite.workerEnv(t, { KAFKA_BOOTSTRAP_SERVERS: broker.brokers.join(","), EMBED_PARQUET_DIR: parquetDir, EMBED_CACHE_SIZE: "0" }));
  suite.workers.push(worker);

  await waitFor("a quarter of the records committed", async () => Number((await getJson(`${worker.metricsUrl}/metrics`)).records_out) >= before / 4, 180_000, 50);
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

  await suite.expectExactlyOnce(t, n, parquetDir, kafka);
  await waitFor("/health back to ok", async () => (await getJson(`${worker.metricsUrl}/health`)).status === "ok", 60_000);
});
