/**
 * The console's kNN scatter-gather over two real emb-indexer processes of one
 * group on the shared broker: a text query through POST /api/knn/query (the
 * route handler, in this process) returns the same top-k as one indexer
 * holding everything (exact mode); when one of the two is killed -9 the
 * console keeps answering, flags what it could not search, and is complete
 * again once the survivor has rebuilt the dead one's partitions. Text queries
 * are embedded by the TEST DOUBLE of the embedding service
 * (tests/doubles/instant-infermesh.ts): the indexer's real model is not what
 * this checks, and the double's vectors are deterministic.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Kafka, Partitioners } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { describeIndexers } from "../../lib/kafka/indexer-group";
import { consoleKnnAnswerSchema, type KnnAnswer } from "../../lib/knn/answer";
import { DISCOVERY_TTL_MS } from "../../lib/upstreams/indexers";
import { serializeEmbeddingRecord, type EmbeddingRecord } from "../../lib/records/embedding-record";
import { freePort } from "../harness/free-port";
import { createTopics } from "../harness/kafka-topics";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";
import { launchWorker } from "../harness/workers";
import { doubleVector, startInstantInfermesh, type InstantInfermesh } from "../doubles/instant-infermesh";
import type { RunningCommand } from "../harness/processes";

const brokers = inject("kafkaBrokers");
const MODEL = "all-MiniLM-L6-v2";
const DIM = 384;
const PARTITIONS = 4;
const DOCS = 240;
const topic = unique("embeddings");
const group = unique("indexers");

// The console parses its environment once, on first use: set it before the route is imported.
Object.assign(process.env, {
  KAFKA_BOOTSTRAP_SERVERS: brokers.join(","),
  EMBED_OUTPUT_TOPIC: topic,
  INDEXER_GROUP: group,
  // Nothing listens there: a query that reached it would fail, so every answer below came from the group.
  INDEXER_URL: "http://127.0.0.1:9",
  KNN_SCATTER_TIMEOUT_MS: "3000",
  LOG_LEVEL: "warn",
});
delete process.env.CONSOLE_TOKEN;

const kafka = new Kafka({ clientId: "it-knn-scatter", brokers, logLevel: 1 });
let embedder: InstantInfermesh;
const running: RunningCommand[] = [];
const dirs: string[] = [];

interface Indexer {
  url: string;
  proc: RunningCommand;
}

async function startIndexer(instance: string, groupId: string): Promise<Indexer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "knn-scatter-"));
  dirs.push(dir);
  const url = `http://127.0.0.1:${port}`;
  const proc = launchWorker("emb-indexer", {
    env: {
      ...process.env,
      EMBED_OUTPUT_TOPIC: topic,
      INDEXER_GROUP: groupId,
      INDEXER_INSTANCE: instance,
      INDEXER_PORT: String(port),
      INDEXER_ADVERTISED_URL: url,
      // The shortest the group allows: a killed instance's partitions move 6 s after its last heartbeat.
      INDEXER_SESSION_TIMEOUT_SEC: "6",
      INDEX_DIR: dir,
      INFERMESH_URL: embedder.url,
      EMBED_MODEL: MODEL,
    },
  });
  running.push(proc);
  await waitFor(`indexer ${instance} healthy`, async () => {
    if (proc.child.exitCode !== null) throw new Error(`indexer ${instance} exited with ${proc.child.exitCode}:\n${proc.output()}`);
    return (await fetch(`${url}/health`)).ok;
  }, 90_000, 200);
  return { url, proc };
}

function record(i: number): EmbeddingRecord {
  const text = `document ${i} about ${["trains", "cakes", "rates", "batteries"][i % 4]}`;
  return { topic: "agent.results", text, doc_id: `doc-${i}`, vector: doubleVector(text, DIM), kafka_ts: 1_700_000_000, embedded_ts: 1_700_000_001, model: MODEL, dim: DIM, normalized: false };
}

type Post = (request: Request) => Promise<Response>;
let post: Post;

/** POST /api/knn/query through the console's route handler. */
async function consoleQuery(body: unknown): Promise<{ status: number; answer: KnnAnswer | null; raw: unknown }> {
  const res = await post(new Request("http://console.test/api/knn/query", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));
  const raw = await res.json();
  return { status: res.status, answer: res.status === 200 ? consoleKnnAnswerSchema.parse(raw) : null, raw };
}

async function indexerQuery(url: string, body: unknown) {
  const res = await fetch(`${url}/knn/query`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
  return consoleKnnAnswerSchema.pick({ neighbors: true }).parse(await res.json());
}

const QUERIES = ["a question about trains", "cakes and rates", "batteries that drain", "something else entirely", "document 17 about cakes"];
const K = 10;
const top = (a: { neighbors: { doc_id: string; score: number }[] }) => a.neighbors.map((n) => n.doc_id);

let reference: Indexer;
let a: Indexer;
let b: Indexer;
/** The single indexer's exact top-k of each query: what a complete answer must be. */
const expected = new Map<string, { doc_id: string; score: number }[]>();

beforeAll(async () => {
  embedder = await startInstantInfermesh({ dim: DIM, model: MODEL });
  await createTopics(kafka, [topic], PARTITIONS);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const records = Array.from({ length: DOCS }, (_, i) => record(i));
  for (let i = 0; i < records.length; i += 100) {
    await producer.send({ topic, acks: -1, messages: records.slice(i, i + 100).map((r) => ({ key: r.doc_id, value: serializeEmbeddingRecord(r) })) });
  }
  await producer.disconnect();
  // One indexer in a group of its own holds every partition: the reference. Then the two of the group under test.
  [reference, a, b] = await Promise.all([startIndexer("reference", unique("reference")), startIndexer("a", group), startIndexer("b", group)]);
  await waitFor("the reference indexer holds every document", async () => ((await (await fetch(`${reference.url}/knn/shards`)).json()) as { total_ids: number }).total_ids === DOCS, 60_000);
  for (const q of QUERIES) expected.set(q, (await indexerQuery(reference.url, { text: q, k: K, exact: true })).neighbors);
  ({ POST: post } = (await import("../../app/api/knn/query/route")) as unknown as { POST: Post });
}, 240_000);

afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
  await Promise.all(running.map((p) => p.exited));
  await embedder?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The console's answer equals the single indexer's: the same documents in the same order, the same scores. */
function expectSameTopK(answer: KnnAnswer, q: string) {
  const want = expected.get(q)!;
  expect(top(answer), q).toEqual(want.map((n) => n.doc_id));
  answer.neighbors.forEach((n, i) => expect(n.score, `${q} #${i}`).toBeCloseTo(want[i]!.score, 5));
}

describe("kNN scatter-gather over two indexers", () => {
  it("answers a text query with the same top-k as one indexer holding everything (exact mode), from both instances", async () => {
    // Both instances own their partitions and have loaded them: the answer is complete.
    const settled = await waitFor("both indexers live on every partition", async () => {
      const r = await consoleQuery({ text: QUERIES[0], k: K, exact: true });
      return r.status === 200 && r.answer!.partial === null && r.answer!.instances.filter((i) => i.ok && i.partitions.length > 0).length === 2 ? r.answer! : false;
    }, 90_000, 250);
    expect(settled.instances.map((i) => i.instance)).toEqual(["a", "b"]);
    expect(settled.instances.flatMap((i) => i.partitions).sort()).toEqual([0, 1, 2, 3]);
    expect(settled.instances.map((i) => i.url)).toEqual([a.url, b.url]);
    for (const q of QUERIES) {
      const r = await consoleQuery({ text: q, k: K, exact: true });
      expect(r.status, JSON.stringify(r.raw)).toBe(200);
      expect(r.answer!.partial).toBeNull();
      expectSameTopK(r.answer!, q);
    }
  });

  it("counts shards, streams figures and checks health over both instances", async () => {
    const { GET } = (await import("../../app/api/knn/shards/route")) as unknown as { GET: (r: Request) => Promise<Response> };
    const shards = (await (await GET(new Request("http://console.test/api/knn/shards"))).json()) as { total_ids: number; instances: { instance: string; total_ids: number }[]; partial: unknown };
    expect(shards.total_ids).toBe(DOCS);
    expect(shards.partial).toBeNull();
    expect(shards.instances.map((i) => i.instance)).toEqual(["a", "b"]);
    expect(shards.instances.every((i) => i.total_ids > 0)).toBe(true);

    const { indexerPoll } = await import("../../lib/upstreams/indexer");
    const event = await indexerPoll()(new AbortController().signal);
    expect("metrics" in event && event.metrics.total_ids).toBe(DOCS);
    expect(event.instances?.map((i) => [i.instance, i.ok])).toEqual([["a", true], ["b", true]]);
    expect((event.instances ?? []).reduce((n, i) => n + (i.total_ids ?? 0), 0)).toBe(DOCS);

    const { consoleConfig } = await import("../../lib/config/console");
    const { healthComponents } = await import("../../lib/health/components");
    const { runProbe } = await import("../../lib/health/probe");
    const { createLogger } = await import("../../lib/log");
    const indexerRow = healthComponents(consoleConfig(), createLogger("test", "silent")).find((c) => c.name === "indexer")!;
    expect(await runProbe(indexerRow, 5_000)).toMatchObject({ ok: true, detail: expect.stringMatching(/^2 indexers: a \d+ vectors · b \d+ vectors$/) });
  });

  it("answers a doc_id query from whichever instance holds the document, without the document itself", async () => {
    for (const doc of ["doc-3", "doc-100", "doc-201"]) {
      const r = await consoleQuery({ doc_id: doc, k: K, exact: true });
      expect(r.status, JSON.stringify(r.raw)).toBe(200);
      const want = (await indexerQuery(reference.url, { doc_id: doc, k: K, exact: true })).neighbors.map((n) => n.doc_id);
      expect(top(r.answer!)).toEqual(want);
      expect(top(r.answer!)).not.toContain(doc);
    }
    const missing = await consoleQuery({ doc_id: "no-such-doc" });
    expect(missing.status).toBe(404);
    expect(missing.raw).toMatchObject({ error: { code: "unknown_doc_id" } });
  });

  it("keeps answering while one indexer is killed -9: partial (naming the partitions) until the survivor has rebuilt them, then complete", async () => {
    const lost = (await consoleQuery({ text: QUERIES[1], k: K, exact: true })).answer!.instances.find((i) => i.instance === "b")!.partitions;
    expect(lost.length).toBeGreaterThan(0);
    b.proc.child.kill("SIGKILL");
    await b.proc.exited;

    const seen = new Set<string>();
    let answers = 0;
    // Ask again and again until an answer is complete: every answer is a 200, and a complete one is the full top-k.
    await waitFor("a complete answer after the partitions moved", async () => {
      const q = QUERIES[answers++ % QUERIES.length]!;
      const r = await consoleQuery({ text: q, k: K, exact: true });
      expect(r.status, JSON.stringify(r.raw)).toBe(200);
      const { partial } = r.answer!;
      if (partial === null) {
        // Complete means complete: never an answer missing a partition without saying so.
        expectSameTopK(r.answer!, q);
        return r.answer!.instances.every((i) => i.instance === "a");
      }
      seen.add(partial.reason);
      expect(partial.partitions.length, partial.message).toBeGreaterThan(0);
      expect(partial.partitions.every((p) => lost.includes(p)), partial.message).toBe(true);
      expect(partial.message).toMatch(/partitions? [\d, ]+/);
      // What was searched is still answered: the top-k among the survivor's documents.
      expect(r.answer!.neighbors.length).toBe(K);
      return false;
    }, 90_000, 250);
    // Between the kill and the rebalance the dead instance is still a member: its part failed (connection refused).
    expect([...seen]).toContain("failed");
    expect(answers).toBeGreaterThan(1);
  });

  it("keeps answering while the group rebalances around an indexer that joins (as npm start restarts one): the members' metadata is hidden then", async () => {
    // The console's last read of the group is older than its cache life, so the next query reads the group afresh.
    await new Promise((r) => setTimeout(r, DISCOVERY_TTL_MS + 100));
    const again = startIndexer("b", group);
    const rebalancing = await waitFor("the group rebalancing as b joins", async () => {
      const view = await describeIndexers(kafka, group, topic);
      return view.state === "PreparingRebalance" || view.state === "CompletingRebalance" ? view : undefined;
    }, 60_000, 20);
    // The coordinator lists members without metadata while it rebalances: no instance to ask by the group alone.
    expect(rebalancing.instances).toEqual([]);
    const q = QUERIES[0]!;
    const r = await consoleQuery({ text: q, k: K, exact: true });
    // Answered by the indexers of the last read (a holds every partition until the rebalance ends), not by INDEXER_URL.
    expect(r.status, JSON.stringify(r.raw)).toBe(200);
    if (r.answer!.partial === null) expectSameTopK(r.answer!, q);
    expect(r.answer!.instances.map((i) => i.instance)).toContain("a");
    b = await again;
  });
});
