/**
 * Records/s through each parse implementation on this machine, and the Spark
 * job's start-up time. Starts its own Kafka broker on free ports (or uses
 * KAFKA_BOOTSTRAP_SERVERS), loads one input topic, runs the TypeScript worker
 * and then the Spark job (local[2]) over it, and writes bench/results/parse.json.
 *
 *   npm run bench:parse            (node --import tsx bench/parse.ts [--records=100000])
 *
 * Cells:
 *  - rules only: parseRawMessage in this process, and the Python rules in the
 *    job's virtualenv, over the same generated messages (no Kafka);
 *  - end to end: a worker started on an already loaded topic, from its first
 *    committed batch to the last record (Kafka in, Kafka out, transactions for
 *    the TS worker); for Spark from the first micro-batch's start to the end of
 *    the batch that reached the end of the topic (trigger 0, big batches).
 * On a shared 2-core machine every figure moves with the load of the moment:
 * the file records the load average next to them.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { Partitioners } from "kafkajs";
import { loadOrExit } from "../lib/config/load";
import { parseStackConfig } from "../lib/config/stack";
import { createKafka } from "../lib/kafka/client";
import { createLogger } from "../lib/log";
import { parseRawMessage } from "../lib/records/parse-raw-message";
import { ensureKafkaInstalled, startLocalBroker, type LocalBroker } from "../scripts/kafka/broker";
import { ensureSparkInstalled } from "../scripts/install/spark";
import { freePort } from "../tests/harness/free-port";
import { createTopics } from "../tests/harness/kafka-topics";
import { unique } from "../tests/harness/unique";
import { waitFor } from "../tests/harness/wait-for";
import { startParseWorker, workerMetrics } from "../tests/harness/parse-worker";
import { followProgress, startSparkJob, waitForSparkToReach, type SparkProgress } from "../tests/harness/spark-job";

const root = path.resolve(import.meta.dirname, "..");
const RECORDS = Number(process.argv.find((a) => a.startsWith("--records="))?.split("=")[1] ?? 100_000);
const PARTITIONS = 3;
const cfg = loadOrExit(parseStackConfig);
const log = createLogger("bench-parse", "warn");
const r1 = (x: number) => Math.round(x * 10) / 10;
const say = (line: string) => process.stdout.write(`${line}\n`);

const WORDS = "the operator watches kafka topics while the worker parses records into documents for the embedding stage on a small machine".split(" ");
/** A realistic message: a JSON object with an id and ~30 words of text, every one different. */
function message(i: number): string {
  const words = Array.from({ length: 30 }, (_, k) => WORDS[(i * 7 + k * 3) % WORDS.length]);
  return JSON.stringify({ id: `bench-${i}`, source: "bench", text: `${i} ${words.join(" ")}` });
}

function rulesOnlyTypeScript(values: Buffer[]): number {
  const started = performance.now();
  for (const v of values) parseRawMessage(v, "agent.results", "1700000000123", { maxTextBytes: 1_000_000 });
  return values.length / ((performance.now() - started) / 1000);
}

function rulesOnlyPython(python: string, count: number): number {
  const script = `
import json, sys, time
from embedline_parse.rules import parse_raw_message, serialize_embedding_input
words = ${JSON.stringify(WORDS)}
values = [json.dumps({"id": f"bench-{i}", "source": "bench", "text": f"{i} " + " ".join(words[(i * 7 + k * 3) % len(words)] for k in range(30))}, separators=(",", ":")).encode() for i in range(${count})]
t = time.perf_counter()
for v in values:
    serialize_embedding_input(parse_raw_message(v, "agent.results", 1700000000123, 1000000))
print(len(values) / (time.perf_counter() - t))`;
  const out = spawnSync(python, ["-c", script], { cwd: path.join(root, "spark"), encoding: "utf8" });
  if (out.status !== 0) throw new Error(out.stderr);
  return Number(out.stdout.trim());
}

async function main() {
  const outFile = path.join(root, "bench", "results", "parse.json");
  const work = path.join(root, "data", "bench", `parse-${Date.now()}`);
  mkdirSync(work, { recursive: true });
  let broker: LocalBroker | undefined;
  try {
    const { python } = await ensureSparkInstalled(log);
    let brokers = cfg.kafka.brokers;
    if (!cfg.kafka.external) {
      say("starting a Kafka broker for the benchmark");
      const classpath = await ensureKafkaInstalled(log);
      broker = await startLocalBroker({ ...cfg.kafka, port: await freePort(), controllerPort: await freePort(), dir: path.join(work, "kafka") }, log, { classpath, onOutput: () => undefined });
      brokers = broker.brokers;
    }
    const kafka = createKafka({ clientId: "bench-parse", brokers, log });
    const load = { loadavg_1m_at_start: r1(loadavg()[0]!) };

    say(`rules only: ${RECORDS} messages`);
    const values = Array.from({ length: RECORDS }, (_, i) => Buffer.from(message(i)));
    const tsRules = rulesOnlyTypeScript(values);
    const pyRules = rulesOnlyPython(python, RECORDS);

    const input = unique("bench-in");
    await createTopics(kafka, [input], PARTITIONS);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    say(`loading ${RECORDS} messages into ${input}`);
    for (let i = 0; i < RECORDS; i += 2000) {
      await producer.send({ topic: input, acks: -1, messages: values.slice(i, i + 2000).map((value) => ({ value })) });
    }
    await producer.disconnect();

    say("TypeScript worker");
    const group = unique("bench-group");
    const worker = await startParseWorker({ brokers, input, output: unique("bench-ts-out"), dlq: unique("bench-ts-dlq"), group, transactionalId: unique("bench-tx") });
    const firstBatchAt = await waitFor("the worker's first batch", async () => ((await workerMetrics(worker)).batches as number) > 0 && performance.now(), 120_000, 5);
    const doneAt = await waitFor("the worker to parse everything", async () => ((await workerMetrics(worker)).records_in as number) >= RECORDS && performance.now(), 600_000, 20);
    const tsMetrics = await workerMetrics(worker);
    worker.child.kill("SIGTERM");
    await worker.exited;
    const tsRate = RECORDS / ((doneAt - firstBatchAt) / 1000);

    say("Spark job (local[2])");
    const progressTopic = unique("bench-progress");
    await createTopics(kafka, [progressTopic], 1);
    const progress = await followProgress(kafka, progressTopic);
    const uiPort = await freePort();
    const startedAt = performance.now();
    const job = startSparkJob({
      KAFKA_BOOTSTRAP_SERVERS: brokers.join(","),
      SPARK_KAFKA_TOPICS: input,
      SINK_INPUT_TOPIC: unique("bench-spark-out"),
      PARSE_DLQ_TOPIC: unique("bench-spark-dlq"),
      SPARK_PROGRESS_TOPIC: progressTopic,
      SPARK_UI_PORT: String(uiPort),
      // As fast as it goes: no trigger interval, batches as big as a third of the load per partition.
      SPARK_TRIGGER_SEC: "0",
      SPARK_MAX_OFFSETS_PER_TRIGGER: "50000",
      DATA_DIR: work,
    });
    const alive = () => {
      if (job.child.exitCode !== null) throw new Error(`Spark job exited (${job.child.exitCode}):\n${job.output().slice(-3000)}`);
    };
    const uiAt = await waitFor("the Spark UI", async () => (alive(), (await fetch(`http://127.0.0.1:${uiPort}/api/v1/applications`)).ok && performance.now()), 300_000, 100);
    const queryAt = await waitFor("the query to start", () => progress.events.some((e) => e.event === "started") && performance.now(), 300_000, 50);
    const ends = Object.fromEntries(Array.from({ length: PARTITIONS }, (_, p) => [String(p), 0]));
    const admin = kafka.admin();
    await admin.connect();
    for (const p of await admin.fetchTopicOffsets(input)) ends[String(p.partition)] = Number(p.high);
    await admin.disconnect();
    await waitForSparkToReach(progress.events, "parse_to_kafka", input, ends, job, 900_000);
    const batches = progress.events.filter((e) => e.event === "progress" && e.query === "parse_to_kafka" && e.progress!.numInputRows > 0).map((e) => e.progress as SparkProgress & { timestamp: string });
    const first = batches[0]!;
    const last = batches.at(-1)!;
    const sparkSeconds = (Date.parse(last.timestamp) + last.batchDuration - Date.parse(first.timestamp)) / 1000;
    job.child.kill("SIGTERM");
    await job.exited;
    await progress.stop();

    const result = {
      when: new Date().toISOString(),
      machine: { cpus: cpus().length, note: "shared 2-core machine; figures vary with other load", ...load, loadavg_1m_at_end: r1(loadavg()[0]!) },
      records: RECORDS,
      message_bytes: r1(values.reduce((n, v) => n + v.length, 0) / RECORDS),
      rules_only_records_per_sec: { typescript: Math.round(tsRules), python: Math.round(pyRules) },
      end_to_end_records_per_sec: {
        typescript_worker: Math.round(tsRate),
        spark_local2: Math.round(RECORDS / sparkSeconds),
        // Without the first micro-batch, which also starts the Python workers.
        spark_local2_after_first_batch: Math.round(batches.slice(1).reduce((n, b) => n + b.numInputRows, 0) / (batches.slice(1).reduce((n, b) => n + b.batchDuration, 0) / 1000)),
      },
      typescript_worker: { batches: tsMetrics.batches, seconds: r1((doneAt - firstBatchAt) / 1000) },
      spark: {
        startup_to_ui_ms: Math.round(uiAt - startedAt),
        startup_to_query_started_ms: Math.round(queryAt - startedAt),
        micro_batches: batches.length,
        first_batch_ms: first.batchDuration,
        seconds: r1(sparkSeconds),
        batches: batches.map((b) => ({ rows: b.numInputRows, ms: b.batchDuration, add_batch_ms: b.durationMs.addBatch })),
        mean_processed_rows_per_sec_reported: Math.round(batches.reduce((n, b) => n + (b.processedRowsPerSecond ?? 0), 0) / batches.length),
      },
    };
    mkdirSync(path.dirname(outFile), { recursive: true });
    writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
    say(JSON.stringify(result, null, 2));
    say(`wrote ${path.relative(root, outFile)}`);
  } finally {
    await broker?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:parse failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
