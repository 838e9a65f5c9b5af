/**
 * The DLQ page's RedDB source: the real RedDB-compatible server holding DLQ
 * records as the embed-worker appends them (the Kafka record plus
 * `replay_count`), read through lib/dlq with `source: "reddb"`, and one
 * redriven to its source topic on the real broker. RedDB answers at most
 * 1,000 entries per read: once the stream holds more, the list, the download
 * and redrive say their answer is partial; below that they are complete.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Kafka } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ReddbClient } from "../../lib/reddb/client";
import { serializeDlqWithOriginal } from "../../lib/records/dlq-original";
import { freePort } from "../harness/free-port";
import { createTopics } from "../harness/kafka-topics";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";
import { launchWorker } from "../harness/workers";
import type { RunningCommand } from "../harness/processes";

const dataDir = mkdtempSync(path.join(os.tmpdir(), "reddb-dlq-"));
const token = `reddb-dlq-${process.pid}`;
const stream = unique("dlq-stream");
const embedInput = unique("embedding-input");
const kafka = new Kafka({ clientId: "it-dlq-reddb", brokers: inject("kafkaBrokers"), logLevel: 1 });
let server: RunningCommand | undefined;
let db: ReddbClient;

beforeAll(async () => {
  const port = await freePort();
  server = launchWorker("reddb", {
    env: { ...process.env, REDDB_PORT: String(port), REDDB_DATA_DIR: dataDir, REDDB_TOKEN: token, LOG_LEVEL: "warn" },
  });
  await waitFor(`reddb on ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, 30_000);
  // The console parses its environment once, on first use: set before lib/dlq is imported.
  Object.assign(process.env, {
    KAFKA_BOOTSTRAP_SERVERS: inject("kafkaBrokers").join(","),
    REDDB_URL: `http://127.0.0.1:${port}`, REDDB_TOKEN: token, REDDB_NAMESPACE: "it", REDDB_DLQ_STREAM: stream,
    EMBED_INPUT_TOPIC: embedInput, LOG_LEVEL: "warn",
  });
  await createTopics(kafka, [embedInput], 1);
  db = new ReddbClient({ url: process.env.REDDB_URL!, token });
  const now = Math.floor(Date.now() / 1000);
  const base = { topic: "agent.results", kafka_ts: now - 5, attempts: 1, error: "HTTP 422", model: "m", reason: "provider_rejected" };
  // Today's shape, redriven once before (RedDB has no headers: the count is in the record).
  const withOriginal = JSON.parse(serializeDlqWithOriginal(
    { ...base, ts: now, text: "t", doc_id: "it-new", stage: "embed", source: { topic: embedInput, partition: 0, offset: "3", timestamp: now - 5 } },
    { key: Buffer.from("it-new"), value: Buffer.from('{"text":"t","doc_id":"it-new"}'), headers: { trace: "x" } }, 1_000_000,
  ));
  await db.append("it", stream, { ...withOriginal, replay_count: 1 });
  // As written before stages and originals were kept.
  await db.append("it", stream, { ...base, ts: now - 1, text: "old", doc_id: "it-old", source: { topic: embedInput, partition: 0, offset: "1" } });
});

afterAll(async () => {
  await db?.close();
  if (server && server.child.exitCode === null) {
    server.child.kill("SIGTERM");
    await server.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
  const { producer } = await import("../../lib/upstreams/kafka");
  await (await producer()).disconnect().catch(() => {});
});

it("reads RedDB's DLQ stream as a source of its own, each entry with its stage and a reddb id", async () => {
  const { dlqSources, readDlq } = await import("../../lib/dlq/source");
  expect(dlqSources()).toEqual(["kafka", "reddb"]);
  const { items, complete } = await readDlq({ limit: 10, source: "reddb" }, AbortSignal.timeout(30_000));
  expect(complete).toBe(true);
  expect(items.map((i) => [i.id, i.dlq, i.stage, i.stage_inferred, i.replay_count, i.original === null])).toEqual([
    [`reddb:${stream}:0`, `reddb:${stream}`, "embed", false, 1, false],
    [`reddb:${stream}:1`, `reddb:${stream}`, "embed", true, 0, true],
  ]);
  expect((await readDlq({ limit: 10, source: "reddb", stage: "index" }, AbortSignal.timeout(30_000))).items).toEqual([]);
});

it("redrives from RedDB: the original to its source topic, the older id form accepted", async () => {
  const { POST } = await import("../../app/api/embed-worker/dlq/redrive/route");
  const res = await POST(new Request("http://console.test/api/embed-worker/dlq/redrive", {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ids: ["reddb:0"], source: "reddb" }),
  }), { params: Promise.resolve({}) });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ redriven: [{ id: `reddb:${stream}:0`, topic: embedInput, how: "original" }], skipped: [], partial: null });
  const { planNewest, readRanges } = await import("../../lib/upstreams/kafka");
  const got: { key: Buffer | null; value: Buffer | null; headers: Record<string, unknown> }[] = [];
  await readRanges(await planNewest(embedInput, "all"), (m) => void got.push(m), AbortSignal.timeout(30_000));
  expect(got.map((m) => [m.key?.toString(), m.value?.toString(), String(m.headers.trace), String(m.headers["x-embedline-replay-count"])])).toEqual([["it-new", '{"text":"t","doc_id":"it-new"}', "x", "2"]]);
});

describe("RedDB's 1,000-per-read cap", () => {
  const ctx = { params: Promise.resolve({}) };
  const list = async (limit: number) => {
    const { GET } = await import("../../app/api/embed-worker/dlq/route");
    const res = await GET(new Request(`http://console.test/api/embed-worker/dlq?source=reddb&limit=${limit}`), ctx);
    expect(res.status).toBe(200);
    return res.json();
  };
  const download = async (limit: number) => {
    const { GET } = await import("../../app/api/embed-worker/dlq/download/route");
    const res = await GET(new Request(`http://console.test/api/embed-worker/dlq/download?source=reddb&format=jsonl&limit=${limit}`), ctx);
    expect(res.status).toBe(200);
    return { header: res.headers.get("x-embedline-partial"), rows: (await res.text()).split("\n").filter(Boolean).length };
  };

  it("a stream holding fewer than asked is complete: 5,000 asked of 2", async () => {
    const { dlqPartialSchema } = await import("../../app/api/embed-worker/dlq/schema");
    const body = await list(5000);
    expect(body).toMatchObject({ count: 2, complete: true, partial: null });
    expect(dlqPartialSchema.parse(body.partial)).toBeNull();
  });

  it("once it holds more than 1,000: the list, the download and redrive say they are partial, and why", async () => {
    const now = Math.floor(Date.now() / 1000);
    const entry = (n: number) => ({ topic: "agent.results", kafka_ts: now, attempts: 1, error: "HTTP 422", model: "m", reason: "provider_rejected", ts: now + n, text: `t${n}`, doc_id: `it-many-${n}`, stage: "embed" });
    const ADDED = 1_100;
    let next = 0;
    // Appends are one record per request: a few at a time.
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < ADDED) await db.append("it", stream, entry(next++));
    }));

    const capped = await list(5000);
    expect(capped).toMatchObject({ count: 1000, complete: false, partial: { reason: "source_cap", limit: 1000, message: "showing the newest 1,000 of RedDB's entries; RedDB returns at most 1,000 per read" } });
    const { dlqPartialSchema } = await import("../../app/api/embed-worker/dlq/schema");
    expect(dlqPartialSchema.safeParse(capped.partial).success).toBe(true);
    // Asked no more than the cap: all that was asked for.
    expect(await list(1000)).toMatchObject({ count: 1000, complete: true, partial: null });
    expect(await list(10)).toMatchObject({ count: 10, complete: true, partial: null });

    // The download says so before its first byte (the limit is in the query); within the cap, no header.
    expect(await download(5000)).toEqual({ header: "source_cap; limit=1000", rows: 1000 });
    expect(await download(10)).toEqual({ header: null, rows: 10 });

    const { POST } = await import("../../app/api/embed-worker/dlq/redrive/route");
    const res = await POST(new Request("http://console.test/api/embed-worker/dlq/redrive", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ids: [`reddb:${stream}:0`], source: "reddb", limit: 5000 }),
    }), ctx);
    expect(res.status).toBe(200);
    const redrive = await res.json();
    expect(redrive).toMatchObject({ redriven: [], partial: { reason: "source_cap", limit: 1000 } });
    expect(redrive.skipped).toEqual([{ id: `reddb:${stream}:0`, reason: "not_found", detail: expect.stringContaining("RedDB returns at most 1,000 per read") }]);
  });
});
