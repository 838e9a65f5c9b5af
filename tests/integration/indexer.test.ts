/**
 * The emb-indexer as it runs in the stack: a real process reading a real Kafka
 * topic, the real embedding model (bundled service) for text queries, its HTTP
 * API over real sockets. Records are fed straight to an `embeddings` topic by
 * `feedEmbeddings` below; once the parse and embed workers land, the lead can
 * swap that one function for producing to agent.results.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Partitioners, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createKafka } from "../../lib/kafka/client";
import { ensureTopics } from "../../lib/kafka/topics";
import { createLogger } from "../../lib/log";
import { serializeEmbeddingRecord, type EmbeddingRecord } from "../../lib/records/embedding-record";
import { originalBytes } from "../../lib/records/dlq-original";
import { dlqRecordSchema, type DlqReason } from "../../lib/records/dlq-record";
import { indexRecordSchema } from "../../lib/records/index-record";
import { shardOf } from "../../lib/records/shard";
import { freePort } from "../harness/free-port";
import { readTopic } from "../harness/read-topic";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";
import { launchWorker } from "../harness/workers";
import { mirrorKvKey } from "../../workers/indexer/mirror";

const brokers = inject("kafkaBrokers");
const kafka = createKafka({ clientId: "indexer-test", brokers, log: createLogger("indexer-test", "warn") });
/** The bundled service's default model: what text queries are embedded with. */
const MODEL = "all-MiniLM-L6-v2";
/**
 * Records of made-up vectors (any dimension) are labelled with a model the
 * registry does not know, and the indexer is told it is its model: a made-up
 * 16-dim vector labelled MiniLM would rightly be dead-lettered as model_mismatch.
 */
const SYNTHETIC = "synthetic-test-vectors";

interface Proc {
  base: string;
  child: ChildProcess;
  logs: () => string;
}
const started: Proc[] = [];
const tempDirs: string[] = [];
let producer: Producer;
let embedder: Proc;

function spawnWorker(name: string, env: Record<string, string>, port: number): Proc {
  const { child, output } = launchWorker(name, { env: { ...process.env, LOG_LEVEL: "warn", ...env } });
  const proc = { base: `http://127.0.0.1:${port}`, child, logs: output };
  started.push(proc);
  return proc;
}

async function healthy(proc: Proc, what: string, timeoutMs = 90_000): Promise<void> {
  await waitFor(`${what} healthy`, async () => {
    if (proc.child.exitCode !== null) throw new Error(`${what} exited with ${proc.child.exitCode}:\n${proc.logs()}`);
    return (await fetch(`${proc.base}/health`)).ok;
  }, timeoutMs, 200);
}

interface IndexerOptions {
  topic: string;
  group?: string;
  dir?: string;
  shards?: number;
  maxIds?: number;
  env?: Record<string, string>;
}

async function startIndexer(o: IndexerOptions): Promise<Proc & { dir: string; group: string }> {
  const port = await freePort();
  const dir = o.dir ?? mkdtempSync(path.join(tmpdir(), "indexer-it-"));
  if (!o.dir) tempDirs.push(dir);
  const group = o.group ?? unique("indexer");
  const proc = spawnWorker(
    "emb-indexer",
    {
      KAFKA_BOOTSTRAP_SERVERS: brokers.join(","),
      EMBED_OUTPUT_TOPIC: o.topic,
      INDEXER_GROUP: group,
      INDEXER_PORT: String(port),
      INDEX_DIR: dir,
      EMB_INDEX_SHARDS: String(o.shards ?? 32),
      EMB_SHARD_MAX_IDS: String(o.maxIds ?? 0),
      INFERMESH_URL: embedder.base,
      EMBED_MODEL: SYNTHETIC,
      INDEX_RECALL_INTERVAL_SEC: "1",
      ...o.env,
    },
    port,
  );
  await healthy(proc, "indexer");
  return { ...proc, dir, group };
}

async function stop(proc: Proc, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.child.once("exit", resolve));
  proc.child.kill(signal);
  await exited;
}

async function embed(texts: string[]): Promise<number[][]> {
  const res = await fetch(`${embedder.base}/embed`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: texts }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { vectors: number[][] }).vectors;
}

function record(docId: string, vector: number[], extra: Partial<EmbeddingRecord> = {}): EmbeddingRecord {
  return { topic: "agent.results", text: "t", doc_id: docId, vector, kafka_ts: 1_700_000_000, embedded_ts: Date.now() / 1000, model: SYNTHETIC, dim: vector.length, normalized: false, ...extra };
}

/** The feeding step: embedding records onto the indexer's topic, keyed by doc_id (as the embed-worker writes them). */
async function feedEmbeddings(topic: string, records: EmbeddingRecord[], partition?: number): Promise<void> {
  // 100 records of 384 dims stay under the broker's 1 MB request limit.
  for (let i = 0; i < records.length; i += 100) {
    const messages = records.slice(i, i + 100).map((r) => ({ key: r.doc_id, value: serializeEmbeddingRecord(r), partition }));
    await producer.send({ topic, acks: -1, messages });
  }
}

async function getJson<T>(proc: Proc, p: string): Promise<T> {
  return (await (await fetch(`${proc.base}${p}`)).json()) as T;
}

async function query(proc: Proc, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${proc.base}/knn/query`, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const totalIds = async (proc: Proc) => (await getJson<{ total_ids: number }>(proc, "/knn/shards")).total_ids;

beforeAll(async () => {
  const port = await freePort();
  embedder = spawnWorker("infermesh", { INFERMESH_PORT: String(port), INFERMESH_HOST: "127.0.0.1" }, port);
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await healthy(embedder, "embedding service", 150_000);
});

afterAll(async () => {
  await producer?.disconnect();
  for (const proc of started) await stop(proc);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const SENTENCES = [
  ["How do I reset my password?", "I forgot my login password and need to change it."],
  ["The train to Paris was cancelled because of the strike.", "A rail strike meant there was no train to Paris."],
  ["This chocolate cake recipe needs three eggs.", "You need three eggs to bake this chocolate cake."],
  ["The football team won the championship last night.", "Last night the soccer club became the champions."],
  ["Interest rates went up again this quarter.", "The central bank raised borrowing costs once more."],
  ["My laptop battery drains very quickly.", "The battery of my notebook runs out fast."],
] as const;

describe("emb-indexer", () => {
  let topic: string;
  let indexer: Proc;

  beforeAll(async () => {
    topic = unique("embeddings");
    await ensureTopics(kafka, [topic], 3);
    const vectors = await embed(SENTENCES.map(([original]) => original));
    await feedEmbeddings(topic, vectors.map((v, i) => record(`doc-${i}`, v, { topic: i % 2 === 0 ? "even" : "odd", model: MODEL, text: SENTENCES[i]![0] })));
    indexer = await startIndexer({ topic, env: { EMBED_MODEL: MODEL } });
    await waitFor("all documents indexed", async () => (await totalIds(indexer)) === SENTENCES.length, 60_000);
  });

  it("finds each text's paraphrase first for a text query", async () => {
    for (const [i, [, paraphrase]] of SENTENCES.entries()) {
      const r = await query(indexer, { text: paraphrase, k: 3 });
      expect(r.status).toBe(200);
      const neighbors = r.json.neighbors as { doc_id: string; score: number; model: string; topic: string; embedded_ts: number }[];
      expect(neighbors[0]?.doc_id, paraphrase).toBe(`doc-${i}`);
      // Each neighbour carries what the index keeps of its text: a hit can be judged without a second lookup.
      expect(neighbors[0]).toMatchObject({ model: MODEL, topic: i % 2 === 0 ? "even" : "odd", text: SENTENCES[i]![0], text_truncated: false, text_len: SENTENCES[i]![0].length, text_stored: true });
      expect(neighbors[0]!.score).toBeGreaterThan(neighbors[1]!.score);
    }
  });

  it("answers doc_id queries without the document itself unless include_self, and filters by topic", async () => {
    const without = await query(indexer, { doc_id: "doc-0", k: 10 });
    expect((without.json.neighbors as { doc_id: string }[]).map((n) => n.doc_id)).not.toContain("doc-0");
    const withSelf = await query(indexer, { doc_id: "doc-0", k: 1, include_self: true, exact: true });
    expect(withSelf.json).toMatchObject({ mode: "exact", neighbors: [{ doc_id: "doc-0" }] });
    expect((withSelf.json.neighbors as { score: number }[])[0]!.score).toBeCloseTo(1, 5);
    const odd = await query(indexer, { doc_id: "doc-0", k: 10, topic: "odd" });
    expect((odd.json.neighbors as { doc_id: string }[]).map((n) => n.doc_id).sort()).toEqual(["doc-1", "doc-3", "doc-5"]);
    // A model filter takes the model's full id as well as its short name.
    const byId = await query(indexer, { doc_id: "doc-0", k: 10, model: "sentence-transformers/all-MiniLM-L6-v2" });
    expect(byId.json.neighbors).toHaveLength(SENTENCES.length - 1);
    expect((await query(indexer, { doc_id: "doc-0", k: 10, model: "bge-small-en-v1.5" })).json.neighbors).toEqual([]);
  });

  it.each([
    ["no vector, doc_id or text", { k: 3 }, 422, /exactly one of vector, doc_id or text \(got none\)/],
    ["several of them", { doc_id: "doc-0", text: "hello" }, 422, /got doc_id and text/],
    ["a vector of the wrong length", { vector: [0.1, 0.2, 0.3] }, 422, /vector has 3 dimensions but the index holds 384-dim vectors/],
    ["a non-finite component", '{"vector": [1e999, 0.5]}', 422, /finite number/],
    ["a string component", { vector: [0.1, "x"] }, 422, /vector.1: every vector component must be a finite number/],
    ["k = 0", { doc_id: "doc-0", k: 0 }, 422, /k must be an integer from 1 to 1000/],
    ["k above 1000", { doc_id: "doc-0", k: 1001 }, 422, /k must be an integer from 1 to 1000/],
    ["a fractional k", { doc_id: "doc-0", k: 2.5 }, 422, /k must be an integer from 1 to 1000/],
    ["an unknown shard", { doc_id: "doc-0", shards: [0, 32] }, 422, /unknown shard 32: shards are 0 to 31/],
    ["an unknown doc_id", { doc_id: "no-such-doc" }, 404, /no document with doc_id "no-such-doc"/],
    ["an all-zero vector", { vector: new Array(384).fill(0) }, 422, /all zeros/],
    ["a vector whose norm overflows", { vector: new Array(384).fill(1e200) }, 422, /^vector norm is not finite \(values too large\)$/],
    ["malformed JSON", "{not json", 400, /not valid JSON/],
  ])("refuses %s", async (_what, body, status, message) => {
    const r = await query(indexer, body);
    expect(r.status).toBe(status);
    expect((r.json.error as { message: string }).message).toMatch(message);
  });

  it("serves shard statistics, metrics with live recall, and health", async () => {
    const stats = await getJson<{ shards: { id: number; count: number; samples: string[]; bytes: number; last_update: number | null }[]; total_ids: number; nonempty: number; dims_by_model: Record<string, number>; model: string }>(indexer, "/knn/shards");
    expect(stats.shards).toHaveLength(32);
    expect(stats.total_ids).toBe(SENTENCES.length);
    expect(stats.dims_by_model).toEqual({ [MODEL]: 384 });
    expect(stats.model).toBe(MODEL);
    const shard0 = stats.shards[shardOf("doc-0", 32)]!;
    expect(shard0.samples).toContain("doc-0");
    // The Shards page shows samples by the start of their texts.
    expect((shard0 as unknown as { sample_docs: { doc_id: string; text: string | null }[] }).sample_docs).toContainEqual({ doc_id: "doc-0", text: SENTENCES[0][0], text_truncated: false, text_stored: true });
    // At least a byte per dimension of its vector, whatever INDEX_QUANTIZATION stores them as (f32 4, f16 2, i8 1).
    expect(shard0.bytes).toBeGreaterThan(384);
    expect(stats.nonempty).toBe(stats.shards.filter((s) => s.count > 0).length);
    const metrics = await waitFor("a recall check", async () => {
      const m = await getJson<{ recall_at_10: number | null; inserted: number; lag: { total: number } }>(indexer, "/metrics");
      return m.recall_at_10 !== null && m;
    }, 30_000);
    expect(metrics.recall_at_10).toBe(1);
    expect(metrics).toMatchObject({ inserted: SENTENCES.length, lag: { total: 0 } });
  });

  it("an upsert of an existing doc_id changes its vector, not the count", async () => {
    const [newVector] = await embed(["A completely different sentence about volcanoes erupting in Iceland."]);
    await feedEmbeddings(topic, [record("doc-2", newVector!, { model: MODEL })]);
    await waitFor("doc-2 re-indexed", async () => {
      const r = await query(indexer, { vector: newVector, k: 1, exact: true });
      const top = (r.json.neighbors as { doc_id: string; score: number }[])[0];
      return top?.doc_id === "doc-2" && top.score > 0.999;
    }, 30_000);
    expect(await totalIds(indexer)).toBe(SENTENCES.length);
  });
});

describe("emb-indexer answers: texts", () => {
  it("a long text is cut at 300 characters on a code point; a record without text says so; both survive a restart", async () => {
    const topic = unique("embeddings-texts");
    await ensureTopics(kafka, [topic], 1);
    const long = `${"x".repeat(299)}😀 and more after the cut`;
    const hidden: EmbeddingRecord = { topic: "agent.results", doc_id: "hidden", vector: [0, 1, 0, 0], kafka_ts: 1, embedded_ts: 2, model: SYNTHETIC, dim: 4, normalized: false, text_sha256: "b".repeat(64), text_len: 4321 };
    await feedEmbeddings(topic, [record("long", [1, 0, 0, 0], { text: long }), hidden]);
    let indexer = await startIndexer({ topic, shards: 4 });
    await waitFor("both documents indexed", async () => (await totalIds(indexer)) === 2, 30_000);
    const expected = {
      long: { text: `${"x".repeat(299)}😀`, text_truncated: true, text_len: [...long].length, text_stored: true },
      hidden: { text: null, text_truncated: false, text_len: 4321, text_stored: false },
    };
    const answer = async () => {
      const r = await query(indexer, { vector: [1, 1, 0, 0], k: 2, exact: true });
      expect(r.status).toBe(200);
      return Object.fromEntries((r.json.neighbors as { doc_id: string }[]).map(({ doc_id, ...rest }) => [doc_id, rest]));
    };
    expect(await answer()).toMatchObject(expected);
    await stop(indexer);
    indexer = await startIndexer({ topic, shards: 4, dir: indexer.dir, group: indexer.group });
    expect(await answer()).toMatchObject(expected);
  });
});

describe("emb-indexer restarts", () => {
  it("after kill -9 mid-stream it resumes without losing or double-applying: count = distinct doc_ids", async () => {
    const topic = unique("embeddings-crash");
    await ensureTopics(kafka, [topic], 3);
    const dim = 384;
    const distinct = 3000;
    // 6000 records over 3000 doc_ids: every document arrives twice, the second time with another vector.
    const vectorOf = (i: number, version: number) => Array.from({ length: dim }, (_, d) => Math.sin(i * 0.37 + d * 0.11 + version));
    const records = [...Array.from({ length: distinct }, (_, i) => record(`c-${i}`, vectorOf(i, 0))), ...Array.from({ length: distinct }, (_, i) => record(`c-${i}`, vectorOf(i, 1)))];
    await feedEmbeddings(topic, records);

    const first = await startIndexer({ topic });
    await waitFor("some but not all records applied", async () => {
      const m = await getJson<{ records_in: number }>(first, "/metrics");
      return m.records_in > 0 && m.records_in < records.length;
    }, 60_000, 20);
    await stop(first, "SIGKILL");
    const appliedBefore = await waitFor("the killed indexer gone", () => first.child.signalCode === "SIGKILL", 10_000);
    expect(appliedBefore).toBe(true);

    const second = await startIndexer({ topic, dir: first.dir, group: first.group });
    await waitFor("lag 0 after restart", async () => {
      const m = await getJson<{ lag: { total: number }; batches: number; records_in: number }>(second, "/metrics");
      return m.batches > 0 && m.lag.total === 0 && (await totalIds(second)) === distinct;
    }, 90_000);
    const m = await getJson<{ records_in: number; inserted: number; updated: number }>(second, "/metrics");
    // The restart read on from where the index stopped, not from the beginning.
    expect(m.records_in).toBeLessThan(records.length);
    expect(await totalIds(second)).toBe(distinct);
    // Every document holds its second version.
    const probe = await query(second, { vector: vectorOf(17, 1), k: 1, exact: true });
    expect(probe.json.neighbors).toMatchObject([{ doc_id: "c-17" }]);
    expect((probe.json.neighbors as { score: number }[])[0]!.score).toBeCloseTo(1, 4);
    await stop(second);
  });

  it("refuses to start on an index of another model of the same dimension, with one line naming both and the fix", async () => {
    const topic = unique("embeddings-model");
    await ensureTopics(kafka, [topic], 1);
    await feedEmbeddings(topic, [record("mini-0", Array.from({ length: 384 }, (_, d) => Math.sin(d + 1)), { model: MODEL })], 0);
    const first = await startIndexer({ topic, env: { EMBED_MODEL: MODEL } });
    await waitFor("the record indexed", async () => (await totalIds(first)) === 1, 60_000);
    await stop(first);

    const port = await freePort();
    // The check comes before Kafka: no broker needed to see it.
    const second = spawnWorker("emb-indexer", { INDEX_DIR: first.dir, EMBED_MODEL: "bge-small-en-v1.5", INDEXER_PORT: String(port), KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:1", INFERMESH_URL: embedder.base }, port);
    const code = second.child.exitCode ?? (await new Promise((resolve) => second.child.once("exit", resolve)));
    expect(code).toBe(2);
    const refusal = second.logs().split("\n").filter((l) => l.startsWith("embedline:"));
    expect(refusal).toEqual([
      `embedline: the index in ${first.dir} holds vectors of model ${MODEL} (384 dims) but EMBED_MODEL is bge-small-en-v1.5 (384 dims): vectors of two models are not comparable. ` +
        `Set EMBED_MODEL=${MODEL} back, or stop the indexer and delete ${first.dir} to rebuild it from the topic with bge-small-en-v1.5`,
    ]);
  });

  it("eviction keeps the newest EMB_SHARD_MAX_IDS per shard", async () => {
    const topic = unique("embeddings-evict");
    await ensureTopics(kafka, [topic], 1);
    const shards = 2;
    const maxIds = 5;
    const docs = Array.from({ length: 40 }, (_, i) => `e-${i}`);
    await feedEmbeddings(topic, docs.map((id, i) => record(id, Array.from({ length: 16 }, (_, d) => Math.cos(i + d)))), 0);
    const indexer = await startIndexer({ topic, shards, maxIds });
    await waitFor("every record read", async () => (await getJson<{ records_in: number }>(indexer, "/metrics")).records_in === docs.length, 60_000);
    const stats = await getJson<{ shards: { id: number; count: number }[] }>(indexer, "/knn/shards");
    for (let shard = 0; shard < shards; shard++) {
      const newest = docs.filter((id) => shardOf(id, shards) === shard).slice(-maxIds);
      expect(stats.shards[shard]!.count).toBe(maxIds);
      for (const id of docs.filter((d) => shardOf(d, shards) === shard)) {
        const r = await query(indexer, { doc_id: id, k: 1 });
        expect(r.status, id).toBe(newest.includes(id) ? 200 : 404);
      }
    }
    await stop(indexer);
  });
});

describe("emb-indexer RedDB mirror", () => {
  it("appends every indexed document to the index stream and puts KV embvec:{doc_id}", async () => {
    const reddbPort = await freePort();
    const reddbDir = mkdtempSync(path.join(tmpdir(), "reddb-it-"));
    tempDirs.push(reddbDir);
    const token = "mirror-secret";
    const reddb = spawnWorker("reddb", { REDDB_PORT: String(reddbPort), REDDB_HOST: "127.0.0.1", REDDB_DATA_DIR: reddbDir, REDDB_TOKEN: token }, reddbPort);
    await healthy(reddb, "reddb");

    const topic = unique("embeddings-mirror");
    await ensureTopics(kafka, [topic], 1);
    // The last one's KV key `embvec:{doc_id}` would be over RedDB's key limit: it is put under its hash.
    const longId = `m-long-${"é".repeat(1500)}`;
    const docs = [...Array.from({ length: 12 }, (_, i) => `m-${i}`), longId];
    await feedEmbeddings(topic, docs.map((id, i) => record(id, Array.from({ length: 16 }, (_, d) => Math.sin(i + d + 1)))), 0);
    const ns = "mirror-test";
    const indexer = await startIndexer({ topic, env: { REDDB_URL: reddb.base, REDDB_TOKEN: token, REDDB_NAMESPACE: ns, REDDB_INDEX_STREAM: "emb_index" } });
    await waitFor("every record indexed", async () => (await getJson<{ records_in: number }>(indexer, "/metrics")).records_in === docs.length, 60_000);

    const auth = { authorization: `Bearer ${token}` };
    const kv = await fetch(`${reddb.base}/api/kv/${ns}/${encodeURIComponent("embvec:m-3")}`, { headers: auth });
    expect(kv.status).toBe(200);
    const stored = indexRecordSchema.parse(await kv.json());
    expect(stored).toMatchObject({ doc_id: "m-3", model: SYNTHETIC, unit: false });
    expect(stored.vector).toHaveLength(16);
    expect(stored.norm).toBeCloseTo(Math.hypot(...stored.vector), 5);
    const stream = (await (await fetch(`${reddb.base}/api/streams/${ns}/emb_index/read?start=0&count=1000`, { headers: auth })).json()) as { value: { doc_id: string } }[];
    expect(new Set(stream.map((e) => e.value.doc_id))).toEqual(new Set(docs));
    const long = await fetch(`${reddb.base}/api/kv/${ns}/${encodeURIComponent(mirrorKvKey(longId))}`, { headers: auth });
    expect(mirrorKvKey(longId)).toMatch(/^embvec-sha256:[0-9a-f]{64}$/);
    expect(long.status).toBe(200);
    expect(indexRecordSchema.parse(await long.json()).doc_id).toBe(longId);
    expect(await getJson<{ mirror: { failures: number; refused: number } }>(indexer, "/metrics")).toMatchObject({ mirror: { failures: 0, refused: 0 } });
    await stop(indexer);
    await stop(reddb);
  });
});

describe("emb-indexer and hostile records", () => {
  const dim = 16;
  const vec = (seed: number) => Array.from({ length: dim }, (_, d) => Math.sin(seed * 0.7 + d * 0.13) + 0.05);
  const json = (r: Record<string, unknown>) => Buffer.from(JSON.stringify(r));
  const base = (docId: string, extra: Record<string, unknown> = {}) => ({ ...record(docId, vec(docId.length)), ...extra });
  const longDocId = `long-${"d".repeat(2995)}`;
  // Each hostile record is followed on the same partition by an ordinary one that must still be indexed.
  const hostile: { name: string; value: Buffer | null; reason: DlqReason | "indexed" }[] = [
    { name: "a 3,000-character doc_id", value: Buffer.from(serializeEmbeddingRecord(record(longDocId, vec(3)))), reason: "indexed" },
    { name: "invalid UTF-8", value: Buffer.concat([Buffer.from('{"doc_id":"bad-'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]), reason: "invalid_unicode" },
    { name: "not JSON", value: Buffer.from("this is not JSON {"), reason: "invalid_json" },
    { name: "deeply nested JSON", value: Buffer.from(`${"[".repeat(100_000)}${"]".repeat(100_000)}`), reason: "invalid_json" },
    { name: "a vector nested 100,000 deep", value: Buffer.from(JSON.stringify(base("nested-vec", { vector: 0 })).replace('"vector":0', `"vector":${"[".repeat(100_000)}${"]".repeat(100_000)}`)), reason: "bad_vector" },
    { name: "valid JSON that is not an embedding record", value: json({ hello: "world", doc_id: "not-a-record" }), reason: "invalid_json" },
    { name: "no value (a tombstone)", value: null, reason: "invalid_json" },
    { name: "a NaN component (not JSON)", value: Buffer.from(JSON.stringify(base("nan-doc", { vector: 0 })).replace('"vector":0', `"vector":[NaN${",0.5".repeat(dim - 1)}]`)), reason: "invalid_json" },
    { name: "an infinite component", value: Buffer.from(JSON.stringify(base("inf-doc", { vector: 0 })).replace('"vector":0', `"vector":[1e999${",0.5".repeat(dim - 1)}]`)), reason: "bad_vector" },
    { name: "dim that is not the vector's length", value: json(base("dim-doc", { dim: dim + 1 })), reason: "bad_vector" },
    { name: "an all-zero vector", value: json(base("zero-doc", { vector: new Array(dim).fill(0) })), reason: "bad_vector" },
    { name: "a lone surrogate in doc_id", value: Buffer.from(JSON.stringify(base("X")).replace('"doc_id":"X"', '"doc_id":"\\ud800"')), reason: "invalid_unicode" },
    { name: "another model of another dimension", value: json({ ...record("other-dim", Array.from({ length: 8 }, (_, d) => d + 1)), model: "other-model" }), reason: "model_mismatch" },
    // MiniLM and bge are both 384-dim: only the model tells their vectors apart.
    { name: "another model of the same dimension", value: json(base("other-model", { model: "BAAI/bge-small-en-v1.5" })), reason: "model_mismatch" },
    { name: "the index's model at another dimension", value: json({ ...record("short-vec", [0.5, 0.25, 1]) }), reason: "model_mismatch" },
  ];
  let indexer: Proc;
  let dlqTopic: string;
  let topic: string;
  const afterDoc = (i: number) => `after-${i}`;

  beforeAll(async () => {
    topic = unique("embeddings-hostile");
    dlqTopic = unique("embeddings-dlq");
    await ensureTopics(kafka, [topic], 1);
    // The first record sets the index's dimension (16).
    const messages = [{ key: "first", value: serializeEmbeddingRecord(record("first", vec(0))) }];
    for (const [i, h] of hostile.entries()) {
      messages.push({ key: `hostile-${i}`, value: h.value as unknown as string });
      messages.push({ key: afterDoc(i), value: serializeEmbeddingRecord(record(afterDoc(i), vec(100 + i))) });
    }
    await producer.send({ topic, acks: -1, messages: messages.map((m) => ({ ...m, partition: 0, headers: { origin: "hostile-test" } })) });
    indexer = await startIndexer({ topic, env: { EMBED_DLQ_TOPIC: dlqTopic, EMBED_TOPIC_PARTITIONS: "1" } });
    await waitFor("every record read", async () => (await getJson<{ records_in: number }>(indexer, "/metrics")).records_in >= messages.length, 90_000);
  });

  it("stays up, healthy, with every ordinary record after a hostile one indexed", async () => {
    expect(indexer.child.exitCode).toBeNull();
    const health = await fetch(`${indexer.base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", partitions: [] });
    for (const i of hostile.keys()) expect((await query(indexer, { doc_id: afterDoc(i), k: 1, include_self: true, exact: true })).status, afterDoc(i)).toBe(200);
  });

  it("indexes a 3,000-character doc_id and finds it by a kNN doc_id query and in the shard samples", async () => {
    const self = await query(indexer, { doc_id: longDocId, k: 1, include_self: true, exact: true });
    expect(self.status).toBe(200);
    expect(self.json.neighbors).toMatchObject([{ doc_id: longDocId }]);
    const stats = await getJson<{ shards: { samples: string[] }[] }>(indexer, "/knn/shards");
    expect(stats.shards[shardOf(longDocId, 32)]!.samples).toContain(longDocId);
  });

  it("dead-letters each unusable record to the DLQ with stage index, its reason, source and original bytes", async () => {
    const dlq = (await readTopic(kafka, dlqTopic)).map((r) => dlqRecordSchema.parse(JSON.parse(r.value)));
    const expected = hostile.filter((h) => h.reason !== "indexed");
    expect(dlq).toHaveLength(expected.length);
    for (const h of expected) {
      const offset = String(1 + 2 * hostile.indexOf(h));
      const letter = dlq.find((d) => d.source.offset === offset);
      expect(letter, h.name).toMatchObject({ stage: "index", reason: h.reason, source: { topic, partition: 0, offset } });
      expect(letter!.source.timestamp).toBeGreaterThan(1_700_000_000);
      expect(originalBytes(letter!.original!.value), h.name).toEqual(h.value);
      expect(letter!.original!.key?.data).toBe(`hostile-${hostile.indexOf(h)}`);
      expect(letter!.original!.headers).toMatchObject([{ key: "origin", value: { data: "hostile-test" } }]);
    }
    const metrics = await getJson<{ dead_letters: { total: number; by_reason: Record<string, number> }; refused_dim: number }>(indexer, "/metrics");
    const byReason: Record<string, number> = {};
    for (const h of expected) byReason[h.reason] = (byReason[h.reason] ?? 0) + 1;
    expect(metrics.dead_letters).toMatchObject({ total: expected.length, by_reason: byReason });
    // Another model's records never reach the index: dead-lettered, never refused silently.
    expect(metrics.dead_letters.by_reason.model_mismatch).toBe(3);
    expect(metrics.refused_dim).toBe(0);
    for (const docId of ["other-dim", "other-model", "short-vec"]) expect((await query(indexer, { doc_id: docId })).status, docId).toBe(404);
    const letter = dlq.find((d) => d.doc_id === "other-model");
    expect(letter).toMatchObject({ model: "BAAI/bge-small-en-v1.5", error: expect.stringMatching(/not comparable/) });
  });
});

describe("emb-indexer health while a partition cannot advance", () => {
  it("says degraded with the partition, offset and reason while the RedDB mirror is down, and ok once it is back", async () => {
    const reddbPort = await freePort();
    const topic = unique("embeddings-stall");
    await ensureTopics(kafka, [topic], 1);
    await feedEmbeddings(topic, [record("stall-0", [1, 2, 3, 4])], 0);
    const indexer = await startIndexer({ topic, env: { REDDB_URL: `http://127.0.0.1:${reddbPort}`, REDDB_NAMESPACE: "stall", EMBED_DLQ_TOPIC: unique("embeddings-dlq") } });
    const degraded = await waitFor("health degraded", async () => {
      const res = await fetch(`${indexer.base}/health`);
      const body = (await res.json()) as { status: string; partitions: { partition: number; offset: number; reason: string }[] };
      return body.status === "degraded" && { code: res.status, body };
    }, 30_000);
    expect(degraded.code).toBe(200);
    expect(degraded.body.partitions).toMatchObject([{ partition: 0, offset: 0, reason: expect.stringMatching(/RedDB mirror/) }]);
    expect((await query(indexer, { doc_id: "stall-0" })).status).toBe(404);

    const reddbDir = mkdtempSync(path.join(tmpdir(), "reddb-stall-"));
    tempDirs.push(reddbDir);
    const reddb = spawnWorker("reddb", { REDDB_PORT: String(reddbPort), REDDB_HOST: "127.0.0.1", REDDB_DATA_DIR: reddbDir }, reddbPort);
    await healthy(reddb, "reddb");
    await waitFor("health ok again", async () => ((await (await fetch(`${indexer.base}/health`)).json()) as { status: string }).status === "ok", 30_000);
    expect((await query(indexer, { doc_id: "stall-0", include_self: true })).status).toBe(200);
    await stop(indexer);
    await stop(reddb);
  });
});

describe("emb-indexer graph snapshots", () => {
  it("saves its graph while it answers queries, and a restart after kill -9 starts from the saved graph", async () => {
    const topic = unique("embeddings-snapshot");
    await ensureTopics(kafka, [topic], 3);
    const dim = 384;
    const count = 1000;
    // Hash-like noise: no two documents close to each other.
    const vectorOf = (i: number) => Array.from({ length: dim }, (_, d) => {
      const x = Math.sin(i * 12.9898 + d * 78.233) * 43758.5453;
      return x - Math.floor(x) - 0.5;
    });
    await feedEmbeddings(topic, Array.from({ length: count }, (_, i) => record(`s-${i}`, vectorOf(i))));
    const first = await startIndexer({ topic, env: { INDEX_SNAPSHOT_SEC: "1" } });
    // Queries go on throughout: every one is answered while the graph is written every second.
    let answering = true;
    const statuses: number[] = [];
    const querying = (async () => {
      while (answering) statuses.push((await query(first, { vector: vectorOf(statuses.length % count), k: 5 })).status);
    })();
    await waitFor("every record indexed", async () => (await totalIds(first)) === count, 90_000);
    const savedAtCount = (await getJson<{ snapshots: { saved: number } }>(first, "/metrics")).snapshots.saved;
    // A save that began after the last record was applied holds every document.
    await waitFor("a snapshot after the last record", async () => (await getJson<{ snapshots: { saved: number } }>(first, "/metrics")).snapshots.saved >= savedAtCount + 1, 30_000);
    answering = false;
    await querying;
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    await stop(first, "SIGKILL");

    const second = await startIndexer({ topic, dir: first.dir, group: first.group, env: { LOG_LEVEL: "info" } });
    const loaded = second.logs().split("\n").find((line) => line.includes('"index loaded"'));
    expect(JSON.parse(loaded ?? "{}")).toMatchObject({ graph: "restored", docs: count, replayedKeys: 0 });
    const probe = await query(second, { vector: vectorOf(734), k: 1 });
    expect(probe.json).toMatchObject({ mode: "hnsw", neighbors: [{ doc_id: "s-734" }] });
    await stop(second);
  });
});
