import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { Partitioners, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createKafka } from "../../lib/kafka/client";
import { createLogger } from "../../lib/log";
import { dlqRecordSchema } from "../../lib/records/dlq-record";
import { ensureSparkInstalled } from "../../scripts/install/spark";
import { freePort } from "../harness/free-port";
import { createTopics, groupCaughtUp } from "../harness/kafka-topics";
import { type ReadRecord, readTopic } from "../harness/read-topic";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";
import { brokerCases, caseMessages, expectedValue } from "../harness/parse-vectors";
import { startParseWorker } from "../harness/parse-worker";
import { descendants, isAlive, type RunningCommand } from "../harness/processes";
import { endOffsetsOf, followProgress, startSparkJob, waitForSparkToReach, type ProgressEvent } from "../harness/spark-job";

// The real Spark job (local[2]) against the test broker, next to the
// TypeScript worker on the same input: both must write the same bytes. Spark
// starts twice in this file (the second time after kill -9), ~15-30 s each on
// a shared 2-core machine.

const brokers = inject("kafkaBrokers");
const log = createLogger("spark-job-test", "error");
const kafka = createKafka({ clientId: "spark-job-test", brokers, log });
const repoRoot = path.resolve(__dirname, "../..");
const KAFKA_QUERY = "parse_to_kafka";
/** Small batches, so a kill lands mid-stream and a replay is bounded by one of them. */
const MAX_OFFSETS_PER_TRIGGER = 2000;
/** ~180 KB of control characters: ~1 MB as an embedding_input record, over the topics' default 1 MiB limit. */
const TOO_LARGE = { key: Buffer.from("too-large-key"), value: Buffer.from("\u0001".repeat(180_000)), headers: { origin: "hostile" } };

const t = {
  input: unique("spark-in"),
  sparkOut: unique("spark-out"),
  sparkDlq: unique("spark-dlq"),
  tsOut: unique("ts-out"),
  tsDlq: unique("ts-dlq"),
  progress: unique("spark-progress"),
  tsGroup: unique("ts-group"),
};
mkdirSync(path.join(repoRoot, "data", "test"), { recursive: true });
const dataDir = mkdtempSync(path.join(repoRoot, "data", "test", "spark-"));
const parquetDir = path.join(dataDir, "vectorized");
let uiPort: number;
let producer: Producer;
let progress: Awaited<ReturnType<typeof followProgress>>;
let job: RunningCommand | undefined;
let python: string;

function sparkEnv(): Record<string, string> {
  return {
    KAFKA_BOOTSTRAP_SERVERS: brokers.join(","),
    SPARK_KAFKA_TOPICS: t.input,
    SINK_INPUT_TOPIC: t.sparkOut,
    PARSE_DLQ_TOPIC: t.sparkDlq,
    SPARK_PROGRESS_TOPIC: t.progress,
    SPARK_UI_PORT: String(uiPort),
    SPARK_TRIGGER_SEC: "0.5",
    SPARK_MAX_OFFSETS_PER_TRIGGER: String(MAX_OFFSETS_PER_TRIGGER),
    VEC_OUTPUT_DIR: parquetDir,
    DATA_DIR: dataDir,
  };
}

const ui = (p: string) => `http://127.0.0.1:${uiPort}/api/v1${p}`;
const byKeyAndValue = (a: ReadRecord, b: ReadRecord) => `${a.key}\0${a.value}`.localeCompare(`${b.key}\0${b.value}`);
const withoutTs = (r: ReadRecord) => {
  const { ts, ...rest } = dlqRecordSchema.parse(JSON.parse(r.value));
  expect(ts).toBeGreaterThan(1_700_000_000);
  // A too_large error line names the sink topic, which differs between the two runs.
  return JSON.stringify(rest).replaceAll(t.sparkOut, "<sink>").replaceAll(t.tsOut, "<sink>");
};

async function inputEnds() {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return endOffsetsOf(await admin.fetchTopicOffsets(t.input));
  } finally {
    await admin.disconnect();
  }
}

/** SIGKILL to run.ts, python, the JVM and its Python workers at once, as in a machine crash. */
function killTree(run: RunningCommand): number[] {
  const pids = [run.child.pid!, ...descendants(run.child.pid!)];
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  return pids;
}

beforeAll(async () => {
  ({ python } = await ensureSparkInstalled(log));
  uiPort = await freePort();
  await createTopics(kafka, [t.input, t.sparkOut, t.sparkDlq, t.tsOut, t.tsDlq], 3);
  await createTopics(kafka, [t.progress], 1);
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  progress = await followProgress(kafka, t.progress);
  for (const send of caseMessages(brokerCases())) await producer.send({ topic: t.input, acks: -1, messages: send.messages });
  // Grows past the sink topic's max.message.bytes only once JSON-escaped: both implementations dead-letter it as too_large.
  await producer.send({ topic: t.input, acks: -1, messages: [TOO_LARGE] });
  job = startSparkJob(sparkEnv());
}, 600_000);

afterAll(async () => {
  if (job && job.child.exitCode === null) killTree(job);
  await progress?.stop();
  await producer?.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("Spark job (spark/job.py, local[2])", () => {
  it("writes to embedding_input and the DLQ exactly what the TypeScript worker writes for the same input", async () => {
    const ends = await inputEnds();
    const worker = await startParseWorker({ brokers, input: t.input, output: t.tsOut, dlq: t.tsDlq, group: t.tsGroup, transactionalId: unique("ts-tx") });
    try {
      await waitFor("the TypeScript worker to consume the vectors", () => groupCaughtUp(kafka, t.tsGroup, t.input), 90_000);
    } finally {
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
    await waitForSparkToReach(progress.events, KAFKA_QUERY, t.input, ends, job!);

    const [spark, ts] = await Promise.all([readTopic(kafka, t.sparkOut), readTopic(kafka, t.tsOut)]);
    const strip = (r: ReadRecord) => ({ key: r.key, value: r.value });
    expect(spark.sort(byKeyAndValue).map(strip)).toEqual(ts.sort(byKeyAndValue).map(strip));
    expect(spark.map((r) => r.value).sort()).toEqual(brokerCases().flatMap((c) => expectedValue(c, t.input) ?? []).sort());

    const [sparkDead, tsDead] = await Promise.all([readTopic(kafka, t.sparkDlq), readTopic(kafka, t.tsDlq)]);
    expect(sparkDead.length).toBeGreaterThan(10);
    expect(sparkDead.map(withoutTs).sort()).toEqual(tsDead.map(withoutTs).sort());
    // Same DLQ shape on both sides (compared byte for byte above): stage, source timestamp, the original message.
    const tooLarge = sparkDead.map((r) => dlqRecordSchema.parse(JSON.parse(r.value))).filter((d) => d.reason === "too_large");
    expect(tooLarge).toHaveLength(1);
    expect(tooLarge[0]).toMatchObject({ stage: "parse", source: { topic: t.input, timestamp: expect.any(Number) }, original: { key: { data: "too-large-key" }, value: { size: 180_000, truncated: true }, headers: [{ key: "origin", value: { data: "hostile" } }] } });
  }, 300_000);

  it("publishes its streaming progress to the progress topic and answers Spark's REST API", async () => {
    const runs = progress.events.filter((e) => e.event === "progress" && e.query === KAFKA_QUERY).map((e) => e.progress!);
    expect(runs.length).toBeGreaterThan(0);
    const read = runs.reduce((n, p) => n + p.numInputRows, 0);
    expect(read).toBe(brokerCases().length + 1);
    const busy = runs.find((p) => p.numInputRows > 0)!;
    expect(busy.batchDuration).toBeGreaterThan(0);
    expect(busy.processedRowsPerSecond).toBeGreaterThan(0);
    expect(busy.sources[0]!.latestOffset[t.input]).toBeDefined();
    expect(busy.sink.numOutputRows).toBe(busy.numInputRows);
    const started = progress.events.find((e) => e.event === "started");
    expect(started).toMatchObject({ app_name: "kafka_vectorizer", query: KAFKA_QUERY });

    const apps = (await (await fetch(ui("/applications"))).json()) as { id: string; name: string }[];
    expect(apps).toEqual([expect.objectContaining({ id: started!.app_id, name: "kafka_vectorizer" })]);
    const jobs = (await (await fetch(ui(`/applications/${apps[0]!.id}/jobs`))).json()) as { status: string }[];
    expect(jobs.some((j) => j.status === "SUCCEEDED")).toBe(true);
    const executors = (await (await fetch(ui(`/applications/${apps[0]!.id}/executors`))).json()) as { id: string; totalCores: number }[];
    expect(executors.find((e) => e.id === "driver")?.totalCores).toBe(2);
  });

  it("after kill -9 mid-stream and a restart, every input is parsed and only the batch in flight is written again", async () => {
    const before = progress.events.length;
    const total = 30_000;
    const perSend = 500;
    let sent = 0;
    const sendMore = async (upTo: number) => {
      for (; sent < upTo; sent += perSend) {
        const messages = Array.from({ length: perSend }, (_, i) => ({ value: JSON.stringify({ id: `bulk-${sent + i}`, text: `bulk text ${sent + i}` }) }));
        await producer.send({ topic: t.input, acks: -1, messages });
      }
    };
    await sendMore(total);
    const midStream = (e: ProgressEvent) => e.event === "progress" && e.query === KAFKA_QUERY && (e.progress?.numInputRows ?? 0) > 0;
    await waitFor("the job to be working through the bulk records", () => progress.events.slice(before).filter(midStream).length >= 2, 120_000, 50);
    const pids = killTree(job!);
    await job!.exited;
    await waitFor("every process of the killed job to be gone", () => !pids.some(isAlive), 10_000);

    job = startSparkJob(sparkEnv());
    await waitForSparkToReach(progress.events, KAFKA_QUERY, t.input, await inputEnds(), job, 300_000);

    const out = await readTopic(kafka, t.sparkOut);
    const bulk = out.filter((r) => r.key?.startsWith("bulk-"));
    const distinct = new Set(bulk.map((r) => r.value));
    expect(distinct.size).toBe(total);
    // At-least-once: records of the micro-batch that was running at the kill are written again, byte-identical; nothing earlier is.
    expect(bulk.length - total).toBeLessThanOrEqual(MAX_OFFSETS_PER_TRIGGER);
    expect(out.filter((r) => !r.key?.startsWith("bulk-")).map((r) => r.value).sort()).toEqual(brokerCases().flatMap((c) => expectedValue(c, t.input) ?? []).sort());

    // The optional Parquet output (VEC_OUTPUT_DIR): Spark's file sink is exactly-once, so the files its
    // metadata log commits hold each parsed record once, although the kill left a partial file behind.
    await waitForSparkToReach(progress.events, "parse_to_parquet", t.input, await inputEnds(), job, 300_000);
    job.child.kill("SIGTERM");
    expect(await job.exited).toBe(0);
    const counted = spawnSync(python, ["-m", "embedline_parse.parquet_output", parquetDir], { cwd: path.join(repoRoot, "spark"), encoding: "utf8" });
    expect(counted.status, counted.stderr).toBe(0);
    const parsedVectors = brokerCases().filter((c) => "record" in c.expect).length;
    expect(JSON.parse(counted.stdout)).toMatchObject({ rows: total + parsedVectors, distinct_doc_ids: distinct.size + new Set(out.filter((r) => !r.key?.startsWith("bulk-")).map((r) => r.key)).size });
  }, 600_000);
});
