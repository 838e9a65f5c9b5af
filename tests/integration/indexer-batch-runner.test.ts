/**
 * The indexer's batch runner on its own: a real index (LMDB + HNSW in a temp
 * dir) and real dead letters on the shared broker. Failures are injected by
 * wrapping the real index so that applying one chosen document throws (an
 * "LMDB error" no retry fixes), or so that the store refuses every write for a
 * while (a full disk): the runner must retry a bounded number of times, then
 * dead-letter only the record at fault; and wait, dead-lettering nothing, while
 * the store itself is failing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { KafkaMessage } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { VectorIndex, type BatchPlan } from "../../lib/index/vector-index";
import { createKafka } from "../../lib/kafka/client";
import { createLogger } from "../../lib/log";
import { originalBytes } from "../../lib/records/dlq-original";
import { dlqRecordSchema } from "../../lib/records/dlq-record";
import { serializeEmbeddingRecord, type EmbeddingRecord } from "../../lib/records/embedding-record";
import { BatchRunner, type IndexSink } from "../../workers/indexer/batch-runner";
import { DeadLetters } from "../../workers/indexer/dead-letters";
import { PartitionHealth } from "../../workers/indexer/health";
import { IndexerMetrics } from "../../workers/indexer/metrics";
import { readTopic } from "../harness/read-topic";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";

const log = createLogger("batch-runner-test", "silent");
const kafka = createKafka({ clientId: "batch-runner-test", brokers: inject("kafkaBrokers"), log });
const TOPIC = "embeddings";
const DIM = 8;
const dirs: string[] = [];
const opened: VectorIndex[] = [];
const letters: DeadLetters[] = [];

afterAll(async () => {
  for (const l of letters) await l.close();
  for (const index of opened) await index.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const record = (docId: string, seed: number): EmbeddingRecord => ({ topic: "t", text: `text of ${docId}`, doc_id: docId, vector: Array.from({ length: DIM }, (_, d) => Math.cos(seed + d)), kafka_ts: 1, embedded_ts: 2, model: "m", dim: DIM, normalized: false });
const message = (offset: number, r: EmbeddingRecord): KafkaMessage => ({ key: Buffer.from(r.doc_id), value: Buffer.from(serializeEmbeddingRecord(r)), timestamp: "1700000000000", attributes: 0, offset: String(offset), headers: { trace: "abc" }, size: 0 }) as unknown as KafkaMessage;

/** The real index, wrapped: `failing(plan)` says whether applying this plan throws, `storeDown()` whether every write does. */
function faultyIndex(index: VectorIndex, faults: { failing: (plan: BatchPlan) => boolean; storeDown: () => boolean }, calls: { commits: number }): IndexSink {
  return {
    get dim() {
      return index.dim;
    },
    get model() {
      return index.model;
    },
    nextOffset: (t, p) => index.nextOffset(t, p),
    plan: (...args) => index.plan(...args),
    commit: (plan) => {
      calls.commits++;
      if (faults.storeDown()) throw new Error("MDB_MAP_FULL: Environment mapsize limit reached");
      if (faults.failing(plan)) throw new Error("MDB_CORRUPTED: Located page was wrong type");
      return index.commit(plan);
    },
    advanceOffset: (t, p, o) => {
      if (faults.storeDown()) throw new Error("MDB_MAP_FULL: Environment mapsize limit reached");
      index.advanceOffset(t, p, o);
    },
  };
}

async function setup(faults: Parameters<typeof faultyIndex>[1], model = "m") {
  const dir = mkdtempSync(path.join(tmpdir(), "batch-runner-"));
  dirs.push(dir);
  const { index } = VectorIndex.open({ dir, shards: 4, maxIdsPerShard: 0, hnsw: { connectivity: 8, efAdd: 32, efSearch: 32 } });
  opened.push(index);
  const dlqTopic = unique("runner-dlq");
  const deadLetters = new DeadLetters(kafka, dlqTopic, TOPIC, 1);
  await deadLetters.connect();
  letters.push(deadLetters);
  const calls = { commits: 0 };
  const health = new PartitionHealth();
  const metrics = new IndexerMetrics();
  const runner = new BatchRunner({ topic: TOPIC, index: faultyIndex(index, faults, calls), model, deadLetters, health, metrics, log, signal: new AbortController().signal, maxAttempts: 3, firstBackoffMs: 10, maxBackoffMs: 50 });
  const ctx = { stillOurs: () => true, heartbeat: async () => undefined };
  return { index, runner, ctx, calls, health, metrics, dlqTopic };
}

describe("indexer batch runner", () => {
  const docs = ["a", "b", "poison", "c", "d"];
  const messages = docs.map((id, i) => message(100 + i, record(id, i)));

  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup({ failing: (plan) => plan.puts.some((p) => p.docId === "poison"), storeDown: () => false });
  });

  it("retries a failing batch a bounded number of times, then dead-letters only the record at fault as unprocessable", async () => {
    const { index, runner, ctx, calls, health, metrics, dlqTopic } = env;
    expect(await runner.run({ partition: 0, messages, nextOffset: 105 }, ctx)).toBe(true);
    // 3 tries of the whole batch, then one per record.
    expect(calls.commits).toBe(3 + docs.length);
    expect(metrics.batchRetries).toBe(3);
    expect(metrics.isolations).toBe(1);
    for (const id of ["a", "b", "c", "d"]) expect(index.locate(id)?.meta.docId).toBe(id);
    expect(index.locate("poison")).toBeUndefined();
    expect(index.nextOffset(TOPIC, 0)).toBe(105);
    expect(health.list()).toEqual([]);
    expect(Object.fromEntries(metrics.deadLetters)).toEqual({ unprocessable: 1 });

    const dlq = (await readTopic(kafka, dlqTopic)).map((r) => ({ key: r.key, record: dlqRecordSchema.parse(JSON.parse(r.value)) }));
    expect(dlq).toHaveLength(1);
    const [{ key, record: letter }] = dlq as [(typeof dlq)[number]];
    expect(key).toBe("poison");
    expect(letter).toMatchObject({ stage: "index", reason: "unprocessable", doc_id: "poison", model: "m", attempts: 4, source: { topic: TOPIC, partition: 0, offset: "102", timestamp: 1_700_000_000 } });
    expect(letter.error).toMatch(/MDB_CORRUPTED/);
    expect(originalBytes(letter.original!.value)).toEqual(messages[2]!.value);
    expect(letter.original!.headers).toEqual([{ key: "trace", value: expect.objectContaining({ data: "abc" }) }]);
  });

  it("does not apply or dead-letter a batch again once the index holds its offsets", async () => {
    const { runner, ctx, calls, metrics } = env;
    const before = calls.commits;
    expect(await runner.run({ partition: 0, messages, nextOffset: 105 }, ctx)).toBe(true);
    expect(calls.commits).toBe(before);
    expect(metrics.deadLetters.get("unprocessable")).toBe(1);
  });
});

describe("indexer batch runner, store refusing writes", () => {
  it("waits while the store refuses even an offset write, reports the partition stalled, dead-letters nothing, and finishes once it recovers", async () => {
    let down = true;
    const { index, runner, ctx, health, metrics, dlqTopic } = await setup({ failing: () => false, storeDown: () => down });
    const messages = ["s1", "s2", "s3"].map((id, i) => message(i, record(id, i)));
    const running = runner.run({ partition: 2, messages, nextOffset: 3 }, ctx);
    await waitFor("the partition reported stalled by the store", () => health.list().find((p) => p.partition === 2 && /refuses writes/.test(p.reason)), 30_000, 20);
    expect(health.list()[0]).toMatchObject({ partition: 2, offset: 0 });
    down = false;
    expect(await running).toBe(true);
    for (const id of ["s1", "s2", "s3"]) expect(index.locate(id)?.meta.docId).toBe(id);
    expect(health.list()).toEqual([]);
    expect(metrics.deadLetters.size).toBe(0);
    expect(await readTopic(kafka, dlqTopic)).toEqual([]);
  });
});

describe("indexer batch runner, records of another model", () => {
  it("dead-letters a record of another model of the same dimension as model_mismatch, indexes the rest, and moves past it", async () => {
    const noFaults = { failing: () => false, storeDown: () => false };
    const { index, runner, ctx, metrics, dlqTopic } = await setup(noFaults, "all-MiniLM-L6-v2");
    // 384 dims, as both models make: only the model tells them apart.
    const of = (docId: string, seed: number, model: string): EmbeddingRecord => ({ ...record(docId, seed), vector: Array.from({ length: 384 }, (_, d) => Math.cos(seed + d)), dim: 384, model });
    // The full id is the same model as the short name; bge is another, at the same dimension.
    const batch = [of("mini-1", 1, "all-MiniLM-L6-v2"), of("bge-1", 2, "BAAI/bge-small-en-v1.5"), of("mini-2", 3, "sentence-transformers/all-MiniLM-L6-v2")];
    const messages = batch.map((r, i) => message(10 + i, r));
    expect(await runner.run({ partition: 1, messages, nextOffset: 13 }, ctx)).toBe(true);
    expect(index.locate("mini-1")).toBeDefined();
    expect(index.locate("mini-2")).toBeDefined();
    expect(index.locate("bge-1")).toBeUndefined();
    expect(index.nextOffset(TOPIC, 1)).toBe(13);
    expect(index.model).toBe("all-MiniLM-L6-v2");
    expect(Object.fromEntries(metrics.deadLetters)).toEqual({ model_mismatch: 1 });
    const dlq = (await readTopic(kafka, dlqTopic)).map((r) => dlqRecordSchema.parse(JSON.parse(r.value)));
    expect(dlq).toHaveLength(1);
    expect(dlq[0]).toMatchObject({ stage: "index", reason: "model_mismatch", doc_id: "bge-1", model: "BAAI/bge-small-en-v1.5", source: { topic: TOPIC, partition: 1, offset: "11" } });
    expect(dlq[0]!.error).toMatch(/model BAAI\/bge-small-en-v1\.5 .*index holds vectors of all-MiniLM-L6-v2/);
  });
});
