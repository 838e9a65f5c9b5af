/**
 * Two real emb-indexer processes in one group on a real broker: together they
 * own every partition of the embeddings topic once, each holds only its
 * partitions' documents, describeIndexers names both; when one is killed -9
 * the survivor takes its partitions, rebuilds them from the topic and answers
 * for all; when it comes back (same INDEXER_INSTANCE, same index directory)
 * its partitions move back and the survivor releases them; an instance that
 * starts on an index holding a partition it is not given releases it.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createKafka } from "../../lib/kafka/client";
import { describeIndexers } from "../../lib/kafka/indexer-group";
import { createLogger } from "../../lib/log";
import { serializeEmbeddingRecord, type EmbeddingRecord } from "../../lib/records/embedding-record";
import { freePort } from "../harness/free-port";
import { createTopics } from "../harness/kafka-topics";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";
import { launchWorker } from "../harness/workers";
import { groupIndexerEnv } from "../harness/pipeline-processes";

const brokers = inject("kafkaBrokers");
const kafka = createKafka({ clientId: "indexer-group-test", brokers, log: createLogger("indexer-group-test", "warn") });
/** Made-up 16-dim vectors under a model the registry does not know, which the indexers are told is theirs. */
const MODEL = "synthetic-test-vectors";
const PARTITIONS = 3;
const PER_PARTITION = 20;

interface Indexer {
  instance: string;
  base: string;
  dir: string;
  port: number;
  child: ChildProcess;
  logs: () => string;
}
interface PartitionState {
  partition: number;
  state: "loading" | "live";
  applied: number;
  end: number | null;
}
interface Metrics {
  instance: string;
  partitions: PartitionState[];
  total_ids: number;
  released: number;
}

const running: Indexer[] = [];
const dirs: string[] = [];
let producer: Producer;
let topic: string;
let group: string;

function startIndexer(instance: string, port: number, dir: string): Indexer {
  const { child, output } = launchWorker("emb-indexer", {
    env: { ...process.env, LOG_LEVEL: "warn", ...groupIndexerEnv({ brokers, topic, group, instance, port, dir, model: MODEL }) },
  });
  const indexer = { instance, base: `http://127.0.0.1:${port}`, dir, port, child, logs: output };
  running.push(indexer);
  return indexer;
}

async function metrics(ix: Indexer): Promise<Metrics> {
  if (ix.child.exitCode !== null) throw new Error(`${ix.instance} exited with ${ix.child.exitCode}:\n${ix.logs()}`);
  return (await (await fetch(`${ix.base}/metrics`)).json()) as Metrics;
}

const owned = (m: Metrics) => m.partitions.map((p) => p.partition);
const allLive = (m: Metrics) => m.partitions.every((p) => p.state === "live");

/** Resolve a doc_id on one instance: 200 when it holds the document, 404 when not. */
async function resolveStatus(ix: Indexer, docId: string): Promise<number> {
  const res = await fetch(`${ix.base}/knn/resolve`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ doc_id: docId }) });
  await res.arrayBuffer();
  return res.status;
}

/** A deterministic 16-dim vector per document, its partition encoded in its direction. */
function vectorOf(partition: number, i: number): number[] {
  return Array.from({ length: 16 }, (_, d) => (d === partition ? 5 : 0) + Math.sin(i * 16 + d + 1));
}

const docId = (partition: number, i: number) => `p${partition}-doc-${i}`;

async function feed(partition: number, from: number, to: number): Promise<void> {
  const records: EmbeddingRecord[] = [];
  for (let i = from; i < to; i++) {
    const vector = vectorOf(partition, i);
    records.push({ topic: "agent.results", text: `text ${i}`, doc_id: docId(partition, i), vector, kafka_ts: 1_700_000_000, embedded_ts: Date.now() / 1000, model: MODEL, dim: vector.length, normalized: false });
  }
  await producer.send({ topic, acks: -1, messages: records.map((r) => ({ key: r.doc_id, value: serializeEmbeddingRecord(r), partition })) });
}

async function killHard(ix: Indexer): Promise<void> {
  if (ix.child.exitCode !== null || ix.child.signalCode !== null) return;
  const exited = new Promise((resolve) => ix.child.once("exit", resolve));
  ix.child.kill("SIGKILL");
  await exited;
}

beforeAll(async () => {
  topic = unique("group-embeddings");
  group = unique("indexers");
  await createTopics(kafka, [topic], PARTITIONS);
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let p = 0; p < PARTITIONS; p++) await feed(p, 0, PER_PARTITION);
});

afterAll(async () => {
  await producer?.disconnect();
  for (const ix of running) {
    if (ix.child.exitCode === null && ix.child.signalCode === null) {
      const exited = new Promise((resolve) => ix.child.once("exit", resolve));
      ix.child.kill("SIGTERM");
      await exited;
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("emb-indexers as one consumer group", () => {
  let a: Indexer;
  let b: Indexer;

  it("own every partition exactly once between them, each holding only its partitions' documents", async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const [dirA, dirB] = [mkdtempSync(path.join(tmpdir(), "indexer-group-a-")), mkdtempSync(path.join(tmpdir(), "indexer-group-b-"))];
    dirs.push(dirA, dirB);
    a = startIndexer("idx-a", portA, dirA);
    b = startIndexer("idx-b", portB, dirB);

    // Instances in id order, partition p to the (p mod 2)-th: idx-a owns 0 and 2, idx-b owns 1.
    await waitFor(
      "both instances live on their partitions",
      async () => {
        const [ma, mb] = [await metrics(a), await metrics(b)];
        return owned(ma).join() === "0,2" && owned(mb).join() === "1" && allLive(ma) && allLive(mb) && ma.total_ids === 2 * PER_PARTITION && mb.total_ids === PER_PARTITION;
      },
      90_000,
    );
    const ma = await metrics(a);
    expect(ma.instance).toBe("idx-a");
    expect(ma.partitions).toEqual([
      { partition: 0, state: "live", applied: PER_PARTITION, end: PER_PARTITION },
      { partition: 2, state: "live", applied: PER_PARTITION, end: PER_PARTITION },
    ]);

    for (let p = 0; p < PARTITIONS; p++) {
      const [holder, other] = p === 1 ? [b, a] : [a, b];
      expect(await resolveStatus(holder, docId(p, 3)), `${holder.instance} holds ${docId(p, 3)}`).toBe(200);
      expect(await resolveStatus(other, docId(p, 3)), `${other.instance} does not hold ${docId(p, 3)}`).toBe(404);
    }

    // The console's view: both instances, their advertised URLs and partitions, straight from the group coordinator.
    const view = await describeIndexers(kafka, group, topic);
    expect(view.partitions).toBe(PARTITIONS);
    expect(view.instances.map(({ instance, url, partitions }) => ({ instance, url, partitions }))).toEqual([
      { instance: "idx-a", url: a.base, partitions: [0, 2] },
      { instance: "idx-b", url: b.base, partitions: [1] },
    ]);

    // Every answer names who answered and from what.
    const res = await fetch(`${a.base}/knn/query`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ vector: vectorOf(1, 0), k: 3, exact: true }) });
    const answer = (await res.json()) as { instance: string; partitions: PartitionState[]; neighbors: { doc_id: string }[] };
    expect(answer.instance).toBe("idx-a");
    expect(answer.partitions.map((p) => p.partition)).toEqual([0, 2]);
    expect(answer.neighbors.every((n) => !n.doc_id.startsWith("p1-"))).toBe(true);
  });

  it("moves a killed instance's partitions to the survivor, which rebuilds them from the topic and answers for all", async () => {
    await killHard(b);
    // Written while idx-b is down: the survivor must have them too.
    await feed(1, PER_PARTITION, PER_PARTITION + 5);

    await waitFor(
      "idx-a live on every partition with every document",
      async () => {
        const m = await metrics(a);
        return owned(m).join() === "0,1,2" && allLive(m) && m.total_ids === 3 * PER_PARTITION + 5;
      },
      90_000,
    );
    expect(await resolveStatus(a, docId(1, PER_PARTITION + 4))).toBe(200);
    const res = await fetch(`${a.base}/knn/query`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ vector: vectorOf(1, 7), k: 1, exact: true }) });
    expect(((await res.json()) as { neighbors: { doc_id: string }[] }).neighbors[0]?.doc_id).toBe(docId(1, 7));
    const view = await describeIndexers(kafka, group, topic);
    expect(view.instances.map(({ instance, partitions }) => ({ instance, partitions }))).toEqual([{ instance: "idx-a", partitions: [0, 1, 2] }]);
  });

  it("gives the partitions back when the instance returns, and the survivor releases them", async () => {
    await feed(1, PER_PARTITION + 5, PER_PARTITION + 8);
    await waitFor("idx-a indexed the last records", async () => (await metrics(a)).total_ids === 3 * PER_PARTITION + 8, 30_000);
    const releasedBefore = (await metrics(a)).released;
    // Same instance id, same index directory: it gets partition 1 again and resumes from its own LMDB.
    b = startIndexer("idx-b", b.port, b.dir);

    await waitFor(
      "partition 1 back on idx-b, released by idx-a",
      async () => {
        const [ma, mb] = [await metrics(a), await metrics(b)];
        return owned(ma).join() === "0,2" && owned(mb).join() === "1" && allLive(mb) && ma.total_ids === 2 * PER_PARTITION && mb.total_ids === PER_PARTITION + 8;
      },
      90_000,
    );
    expect((await metrics(a)).released - releasedBefore).toBe(PER_PARTITION + 8);
    expect(await resolveStatus(a, docId(1, 0))).toBe(404);
    expect(await resolveStatus(b, docId(1, PER_PARTITION + 7))).toBe(200);
  });

  it("releases at start what its index holds of partitions it is not given", async () => {
    await stopGracefully(b);
    // idx-0 sorts first, so with idx-a it is given partitions 0 and 2, not the partition 1 its index (idx-b's) holds.
    const c = startIndexer("idx-0", await freePort(), b.dir);
    await waitFor(
      "idx-0 on partitions 0 and 2 only, idx-a on partition 1",
      async () => {
        const [ma, mc] = [await metrics(a), await metrics(c)];
        return owned(mc).join() === "0,2" && owned(ma).join() === "1" && allLive(mc) && allLive(ma) && mc.total_ids === 2 * PER_PARTITION && ma.total_ids === PER_PARTITION + 8;
      },
      90_000,
    );
    expect((await metrics(c)).released).toBe(PER_PARTITION + 8);
    expect(await resolveStatus(c, docId(1, 0))).toBe(404);
    expect(await resolveStatus(c, docId(2, 0))).toBe(200);
  });
});

async function stopGracefully(ix: Indexer): Promise<void> {
  const exited = new Promise((resolve) => ix.child.once("exit", resolve));
  ix.child.kill("SIGTERM");
  await exited;
}
