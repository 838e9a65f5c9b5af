import { createHash } from "node:crypto";
import { Partitioners, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createKafka } from "../../lib/kafka/client";
import { createLogger } from "../../lib/log";
import { dlqRecordSchema } from "../../lib/records/dlq-record";
import { createTopics, groupCaughtUp } from "../harness/kafka-topics";
import { readTopic } from "../harness/read-topic";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";
import { brokerCases, caseMessages, expectedReason, expectedValue, messageValue } from "../harness/parse-vectors";
import { originalBytes } from "../../lib/records/dlq-original";
import { startParseWorker, workerMetrics, type ParseWorkerProcess } from "../harness/parse-worker";
import { descendants, isAlive } from "../harness/processes";
import { isFenced } from "../../lib/kafka/errors";

// The TypeScript parse worker as a real process against the test broker:
// shared vectors in, exact records out; bad input on the DLQ with reasons;
// exactly once across kill -9 and a restart.

const brokers = inject("kafkaBrokers");
const kafka = createKafka({ clientId: "parse-worker-test", brokers, log: createLogger("parse-worker-test", "error") });
const running: ParseWorkerProcess[] = [];
let producer: Producer;

beforeAll(async () => {
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});

afterAll(async () => {
  for (const w of running) if (w.child.exitCode === null) w.child.kill("SIGKILL");
  await producer.disconnect();
});

function topics(what: string) {
  return { brokers, input: unique(`${what}-in`), output: unique(`${what}-out`), dlq: unique(`${what}-dlq`), group: unique(`${what}-group`), transactionalId: unique(`${what}-tx`) };
}

async function started(setup: ReturnType<typeof topics>) {
  const worker = await startParseWorker(setup);
  running.push(worker);
  return worker;
}

describe("parse worker (workers/parse)", () => {
  it("turns the shared vectors into exactly the expected embedding_input records, and bad input into DLQ records with reasons", async () => {
    const startedAt = Date.now();
    const setup = topics("vectors");
    await createTopics(kafka, [setup.input, setup.output, setup.dlq], 3);
    const cases = brokerCases();
    expect(cases.length).toBeGreaterThan(90);
    // All on partition 0, in order: a DLQ record's source offset names its case.
    const offsetOfCase = new Map<string, number>();
    for (const send of caseMessages(cases)) {
      const [meta] = await producer.send({ topic: setup.input, acks: -1, messages: send.messages.map((m) => ({ ...m, partition: 0 })) });
      send.messages.forEach((m, i) => offsetOfCase.set(m.headers.case, Number(meta!.baseOffset) + i));
    }
    const caseAtOffset = new Map([...offsetOfCase].map(([i, offset]) => [offset, cases[Number(i)]!]));

    const worker = await started(setup);
    await waitFor("the worker to consume every vector", () => groupCaughtUp(kafka, setup.group, setup.input), 90_000);

    const records = await readTopic(kafka, setup.output);
    const wanted = cases.flatMap((c) => expectedValue(c, setup.input) ?? []);
    expect(records.map((r) => r.value).sort()).toEqual(wanted.sort());
    for (const r of records) expect(r.key).toBe((JSON.parse(r.value) as { doc_id: string }).doc_id);

    const dead = (await readTopic(kafka, setup.dlq)).map((r) => dlqRecordSchema.parse(JSON.parse(r.value)));
    const wantedReasons = cases.flatMap((c) => {
      const reason = expectedReason(c);
      return reason ? [{ name: c.name, reason }] : [];
    });
    expect(wantedReasons.length).toBeGreaterThan(10);
    const gotReasons = dead.map((d) => {
      expect(d.source.topic).toBe(setup.input);
      expect(d.source.partition).toBe(0);
      return { name: caseAtOffset.get(Number(d.source.offset))?.name, reason: d.reason };
    });
    const byName = (a: { name?: string }, b: { name?: string }) => String(a.name).localeCompare(String(b.name));
    expect(gotReasons.sort(byName)).toEqual(wantedReasons.sort(byName));
    for (const d of dead) {
      expect(d).toMatchObject({ text: null, doc_id: null, attempts: 1, model: null, stage: "parse" });
      // The original message: its exact bytes, or (over the DLQ topic's limit) a prefix with the whole one's size and sha256.
      const value = messageValue(caseAtOffset.get(Number(d.source.offset))!);
      const kept = d.original!.value;
      if (value === null) expect(kept).toBeNull();
      else if (kept!.truncated) expect(kept).toMatchObject({ size: value.length, sha256: createHash("sha256").update(value).digest("hex") });
      else expect(originalBytes(kept)).toEqual(value);
      expect(d.original!.headers.map((h) => h.key)).toEqual(["case"]);
    }

    const metrics = await workerMetrics(worker);
    expect(metrics).toMatchObject({ records_in: cases.length, records_out: wanted.length, dlq_records: wantedReasons.length });
    expect(metrics.batches).toBeGreaterThan(0);
    expect(typeof metrics.rate).toBe("number");
    expect(metrics.last_batch_ts).toBeGreaterThan(Date.now() / 1000 - 120);
    // The stage's latency: each record's Kafka timestamp (the vectors set theirs, most in 2023) to its commit;
    // a record without a valid timestamp (0, -1) counts for the rate only.
    const stage = metrics.stage_window as { records: number; samples: number; p50_ms: number; p99_ms: number; max_ms: number };
    const stamped = cases.map((c) => Number(c.timestamp)).filter((t) => t > 0);
    expect(stage.records).toBe(cases.length);
    expect(stage.samples).toBe(stamped.length);
    expect(stage.p50_ms).toBeGreaterThan(0);
    expect(stage.p99_ms).toBeGreaterThanOrEqual(stage.p50_ms);
    expect(stage.max_ms).toBeGreaterThanOrEqual(startedAt - Math.min(...stamped));
    expect(stage.max_ms).toBeLessThanOrEqual(Date.now() - Math.min(...stamped));

    // An aborted transaction on the input: a fetch of only aborted records and
    // a marker, which never reaches eachBatch. The worker commits past it, so
    // the group ends with committed == end (Kafka's tools show lag 0).
    const aborting = kafka.producer({ transactionalId: unique("aborted-input"), idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await aborting.connect();
    const tx = await aborting.transaction();
    await tx.send({ topic: setup.input, messages: [{ partition: 0, value: "never committed" }] });
    await tx.abort();
    await aborting.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const endOf0 = async () => (await admin.fetchTopicOffsets(setup.input)).find((e) => e.partition === 0)!.high;
    // The aborted record and the marker (the coordinator writes it after answering the abort).
    await waitFor("the abort marker in the input", async () => (await endOf0()) === String(offsetOfCase.size + 2));
    await admin.disconnect();
    await waitFor("the worker to commit past the aborted transaction's marker", () => groupCaughtUp(kafka, setup.group, setup.input), 30_000);
    expect((await workerMetrics(worker)).records_in).toBe(cases.length);

    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  });

  it("produces every record exactly once across a kill -9 and a restart mid-stream", async () => {
    const setup = topics("crash");
    await createTopics(kafka, [setup.input, setup.output, setup.dlq], 3);
    const total = 6000;
    const perSend = 100;
    let sent = 0;
    const sendMore = async (upTo: number) => {
      for (; sent < upTo; sent += perSend) {
        const messages = Array.from({ length: perSend }, (_, i) => ({ value: JSON.stringify({ id: `doc-${sent + i}`, text: `text number ${sent + i}` }) }));
        await producer.send({ topic: setup.input, acks: -1, messages });
      }
    };

    const first = await started(setup);
    // Keep producing while the worker runs, and kill it once it is well into the stream.
    const producing = sendMore(total / 2);
    await waitFor("the first worker to be mid-stream", async () => ((await workerMetrics(first)).records_in as number) >= 500, 60_000, 20);
    const pids = [first.child.pid!, ...descendants(first.child.pid!)];
    for (const pid of pids) process.kill(pid, "SIGKILL");
    await first.exited;
    expect(pids.some(isAlive)).toBe(false);
    await producing;
    await sendMore(total);

    const second = await started(setup);
    await waitFor("the restarted worker to consume everything", () => groupCaughtUp(kafka, setup.group, setup.input), 120_000);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);

    const records = await readTopic(kafka, setup.output);
    const ids = records.map((r) => r.key!);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(Array.from({ length: total }, (_, i) => `doc-${i}`).sort());
    expect(await readTopic(kafka, setup.dlq)).toEqual([]);
  });

  it("fences a predecessor with its transactional id before reading offsets: the predecessor's open transaction can no longer commit", async () => {
    const setup = topics("fence");
    await createTopics(kafka, [setup.input, setup.output, setup.dlq], 1);
    const predecessor = kafka.producer({ transactionalId: setup.transactionalId, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await predecessor.connect();
    const tx = await predecessor.transaction();
    await tx.send({ topic: setup.output, messages: [{ value: "predecessor" }] });
    await tx.sendOffsets({ consumerGroupId: setup.group, topics: [{ topic: setup.input, partitions: [{ partition: 0, offset: "1" }] }] });
    await started(setup);
    const err = await tx.commit().then(() => undefined, (e: unknown) => e);
    expect(isFenced(err)).toBe(true);
    await predecessor.disconnect();
  });
});
