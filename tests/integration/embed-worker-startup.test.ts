/**
 * The embed-worker's start against what its Parquet sink already holds (issues 3
 * and 12): vectors of another model, even of the same dimension, stop it with one line; EMBED_CACHE_WARMUP
 * preloads the newest (text, vector) pairs so they cost no model call.
 */
import { utimesSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ParquetSink, type EmbeddingRow } from "../../lib/parquet";
import { doubleVector } from "../doubles/instant-infermesh";
import { startWorker } from "../harness/embed-worker";
import { freePort } from "../harness/free-port";
import { getJson } from "../harness/http";
import { waitUntilConsumed } from "../harness/kafka-topics";
import { produce } from "../harness/produce";
import { readCommitted } from "../harness/read-topic";
import { waitFor } from "../harness/wait-for";
import { launchWorker } from "../harness/workers";
import { embedWorkerSuite } from "./embed-worker-suite";

const suite = embedWorkerSuite("embed-startup-test");
const { kafka, workers } = suite;

const tmpDir = () => suite.tmpDir("embed-startup-");

/** A constant vector no embedding service here would make: proof that a vector came from the cache. */
const seeded = (i: number, dim = 384) => Array.from({ length: dim }, () => 0.125 * (i + 1));
const row = (i: number, text: string, model = "all-MiniLM-L6-v2"): EmbeddingRow => ({
  topic: "agent.results", text, doc_id: `seed-${i}`, vector: seeded(i), kafka_ts: null, embedded_ts: 1, model, dim: 384, normalized: false, source_partition: 0, source_offset: String(i),
});

/** A sink file of an earlier run (another input topic, so no takeover deletes it), modified at `mtime` s. */
async function seedFile(dir: string, first: number, rows: EmbeddingRow[], mtime: number) {
  const name = await new ParquetSink(dir, true).write({ topic: "earlier-input", partition: 0, firstOffset: BigInt(first), lastOffset: BigInt(first + rows.length - 1) }, rows);
  utimesSync(path.join(dir, name), mtime, mtime);
}

describe("embed-worker start", () => {
  it("stops with one line naming both models and the fix when the Parquet sink holds vectors of another model of the same dimension", async () => {
    const dir = tmpDir();
    await seedFile(dir, 0, [row(0, "embedded by bge", "BAAI/bge-small-en-v1.5")], 1_000);
    const cmd = launchWorker("embed-worker", {
      // No broker and no embedding service needed: the check comes first.
      env: { ...process.env, EMBED_PARQUET_DIR: dir, EMBED_MODEL: "all-MiniLM-L6-v2", KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:1", INFERMESH_URL: "http://127.0.0.1:1", EMBED_METRICS_PORT: String(await freePort()) },
    });
    const code = await cmd.exited;
    expect(code).toBe(2);
    const lines = cmd.output().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/holds vectors of model BAAI\/bge-small-en-v1\.5 \(384 dims.*but EMBED_MODEL is all-MiniLM-L6-v2 \(384 dims\)/);
    expect(lines[0]).toMatch(/EMBED_MODEL=BAAI\/bge-small-en-v1\.5 back, or point EMBED_PARQUET_DIR at a new directory/);
  });

  it("EMBED_CACHE_WARMUP=3 preloads the 3 newest pairs from Parquet: those texts get their stored vectors, older ones are embedded", async () => {
    const dir = tmpDir();
    await seedFile(dir, 0, [0, 1, 2].map((i) => row(i, `seeded text ${i}`)), 1_000);
    await seedFile(dir, 3, [3, 4].map((i) => row(i, `seeded text ${i}`)), 2_000);
    const t = await suite.topics(1);
    const worker = await startWorker(suite.workerEnv(t, { EMBED_PARQUET_DIR: dir, EMBED_CACHE_WARMUP: "3" }));
    workers.push(worker);
    // Warming runs before consumption starts; /metrics answers meanwhile.
    await waitFor("the cache to hold the 3 warmed pairs", async () => ((await getJson(`${worker.metricsUrl}/metrics`)).cache as { size: number }).size === 3, 60_000);
    expect(worker.output()).toMatch(/"requested":3,"warmed":3/);

    const texts = [0, 1, 2, 3, 4].map((i) => `seeded text ${i}`);
    await produce(kafka, t.input, texts.map((text, i) => JSON.stringify({ text, topic: "t", kafka_ts: 1, doc_id: `again-${i}` })));
    await waitUntilConsumed(kafka, t.group, t.input);
    const out = new Map((await readCommitted(kafka, t.output)).map((o) => [o.value.doc_id, o.value.vector as number[]]));
    expect(out.size).toBe(5);
    // The newest three (4, 3, 2) came from the cache; 0 and 1 from the service.
    for (const i of [2, 3, 4]) expect(out.get(`again-${i}`)).toEqual(seeded(i));
    for (const i of [0, 1]) expect(out.get(`again-${i}`)).toEqual(doubleVector(texts[i]!, 384));
  });
});
