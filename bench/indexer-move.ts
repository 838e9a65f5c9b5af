/**
 * What moving partitions between emb-indexers costs: two real indexer
 * processes in one group on a real broker, N records of 384 dims over 3
 * partitions of the embeddings topic.
 *
 * 1. one indexer alone rebuilds all 3 partitions from the topic (start → live);
 * 2. a second joins: partition 1 moves to it (it rebuilds N/3 from the topic,
 *    the first releases them: LMDB, memory and graph);
 * 3. the second is killed -9: the first waits out INDEXER_SESSION_TIMEOUT_SEC,
 *    is assigned partition 1 again and rebuilds it from the topic.
 *
 * Needs a broker: KAFKA_BOOTSTRAP_SERVERS (else 127.0.0.1:KAFKA_PORT, a running
 * `npm start`). Timings on a shared machine are upper bounds.
 *
 * `--release` measures, in this process and without a broker, what releasing
 * a partition of `--docs` documents (default 20,000) costs the event loop: the
 * index's release in steps (what the indexer runs) and the former synchronous
 * one, with the longest stall of a probe that runs every millisecond and of an
 * HNSW query sent every 10 ms meanwhile (its field `release_in_process`; the
 * rest of the file is kept).
 *
 *   npm run bench:indexer-move [-- --n 30000]   → bench/results/indexer-move.json
 *   npm run bench:indexer-move -- --release [--docs 20000]
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { inheritedEnv } from "../lib/config/load";
import { parseStackConfig } from "../lib/config/stack";
import { createKafka } from "../lib/kafka/client";
import { createLogger } from "../lib/log";
import { serializeEmbeddingRecord } from "../lib/records/embedding-record";
import { VectorIndex, type IncomingRecord } from "../lib/index/vector-index";
import { searchIndex } from "../lib/index/search";
import { freePort } from "../tests/harness/free-port";
import { percentile } from "../tests/harness/percentile";
import { createTopics } from "../tests/harness/kafka-topics";
import { unique } from "../tests/harness/unique";
import { waitFor } from "../tests/harness/wait-for";
import { launchWorker } from "../tests/harness/workers";
import { GROUP_SESSION_TIMEOUT_SEC, groupIndexerEnv } from "../tests/harness/pipeline-processes";

const root = path.resolve(import.meta.dirname, "..");
const nArg = process.argv.indexOf("--n");
const N = nArg > 0 ? Number(process.argv[nArg + 1]) : 30_000;
const DIM = 384;
const PARTITIONS = 3;
const MODEL = "synthetic-bench-vectors";
const RESULT = path.join(root, "bench/results/indexer-move.json");
const previous = (() => {
  try {
    return JSON.parse(readFileSync(RESULT, "utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
})();

if (process.argv.includes("--release")) {
  const docsArg = process.argv.indexOf("--docs");
  const release = await releaseInProcess(docsArg > 0 ? Number(process.argv[docsArg + 1]) : 20_000);
  writeFileSync(RESULT, `${JSON.stringify({ ...previous, release_in_process: release }, null, 2)}\n`);
  console.log(JSON.stringify(release, null, 2));
  process.exit(0);
}

const stack = parseStackConfig(inheritedEnv());
const brokers = stack.kafka.brokers;
const kafka = createKafka({ clientId: "bench-indexer-move", brokers, log: createLogger("bench-indexer-move", "warn") });
const topic = unique("bench-move");
const group = `${topic}-indexers`;

interface Indexer {
  base: string;
  child: ChildProcess;
  logs: () => string;
}
interface Metrics {
  partitions: { partition: number; state: string }[];
  total_ids: number;
}

function startIndexer(instance: string, port: number, dir: string): Indexer {
  const { child, output } = launchWorker("emb-indexer", {
    env: { ...inheritedEnv(), LOG_LEVEL: "info", ...groupIndexerEnv({ brokers, topic, group, instance, port, dir, model: MODEL }) },
  });
  return { base: `http://127.0.0.1:${port}`, child, logs: output };
}

async function metrics(ix: Indexer): Promise<Metrics> {
  if (ix.child.exitCode !== null) throw new Error(`indexer exited with ${ix.child.exitCode}:\n${ix.logs().slice(-2000)}`);
  return (await (await fetch(`${ix.base}/metrics`)).json()) as Metrics;
}
const owns = (m: Metrics, ps: number[]) => m.partitions.map((p) => p.partition).join() === ps.join();
const live = (m: Metrics) => m.partitions.every((p) => p.state === "live");
const since = (t: number) => Math.round(performance.now() - t);
/** CPU seconds (user + system) a process used so far, from /proc (Linux; 100 clock ticks a second). */
function cpuSeconds(ix: Indexer): number {
  const stat = readFileSync(`/proc/${ix.child.pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
const round1 = (x: number) => Math.round(x * 10) / 10;

/** "partition released" log lines of an indexer: documents and milliseconds each. */
function releases(ix: Indexer): { partition: number; documents: number; durationMs: number }[] {
  return ix
    .logs()
    .split("\n")
    .filter((l) => l.includes("partition released"))
    .map((l) => JSON.parse(l) as { partition: number; documents: number; durationMs: number })
    .map(({ partition, documents, durationMs }) => ({ partition, documents, durationMs }));
}

async function feed(): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    let r = 12345;
    const next = () => ((r = (r * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    // 100 records of 384 dims stay under the broker's 1 MB request limit.
    for (let from = 0; from < N; from += 100) {
      const messages = [];
      for (let i = from; i < Math.min(N, from + 100); i++) {
        const vector = Array.from({ length: DIM }, next);
        const doc_id = `doc-${i}`;
        messages.push({ key: doc_id, partition: i % PARTITIONS, value: serializeEmbeddingRecord({ topic: "agent.results", text: `text ${i}`, doc_id, vector, kafka_ts: 1_700_000_000, embedded_ts: 1_700_000_100, model: MODEL, dim: DIM, normalized: false }) });
      }
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

const dirs = [mkdtempSync(path.join(tmpdir(), "bench-move-a-")), mkdtempSync(path.join(tmpdir(), "bench-move-b-"))];
const started: Indexer[] = [];
try {
  await createTopics(kafka, [topic], PARTITIONS);
  let t = performance.now();
  await feed();
  const feedMs = since(t);
  console.log(`fed ${N} records in ${feedMs} ms`);

  // 1. One indexer rebuilds everything.
  t = performance.now();
  const a = startIndexer("idx-a", await freePort(), dirs[0]!);
  started.push(a);
  await waitFor("idx-a answering", async () => (await metrics(a)) && true, 60_000);
  const answeringMs = since(t);
  await waitFor("idx-a live on all partitions", async () => {
    const m = await metrics(a);
    return owns(m, [0, 1, 2]) && live(m) && m.total_ids === N;
  }, 1_800_000, 250);
  const fullMs = since(t);
  const fullCpu = cpuSeconds(a);
  console.log(`one indexer: all ${N} live after ${fullMs} ms (answering after ${answeringMs} ms)`);

  // 2. A second joins: partition 1 moves.
  t = performance.now();
  const aCpuBeforeJoin = cpuSeconds(a);
  const b = startIndexer("idx-b", await freePort(), dirs[1]!);
  started.push(b);
  await waitFor("partition 1 moved to idx-b", async () => {
    const [ma, mb] = [await metrics(a), await metrics(b)];
    return owns(ma, [0, 2]) && owns(mb, [1]) && live(mb) && mb.total_ids === N / PARTITIONS;
  }, 1_800_000, 250);
  const joinMs = since(t);
  const joinCpu = cpuSeconds(b);
  const releaseCpu = cpuSeconds(a) - aCpuBeforeJoin;
  const released = releases(a);
  console.log(`second joins: partition 1 live on idx-b after ${joinMs} ms; idx-a released ${JSON.stringify(released)}`);

  // 3. The second is killed: partition 1 comes back to the first.
  const exited = new Promise((resolve) => b.child.once("exit", resolve));
  b.child.kill("SIGKILL");
  await exited;
  t = performance.now();
  const aCpuBeforeKill = cpuSeconds(a);
  await waitFor("idx-a assigned partition 1 again", async () => owns(await metrics(a), [0, 1, 2]), 120_000, 100);
  const reassignedMs = since(t);
  await waitFor("idx-a live on partition 1 again", async () => {
    const m = await metrics(a);
    return live(m) && m.total_ids === N;
  }, 1_800_000, 250);
  const failoverMs = since(t);
  const failoverCpu = cpuSeconds(a) - aCpuBeforeKill;
  console.log(`kill -9: idx-a assigned partition 1 after ${reassignedMs} ms, live after ${failoverMs} ms`);

  const perSecond = (docs: number, ms: number) => Math.round((docs / ms) * 1000);
  const result = {
    bench: "indexer-move",
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg_1m: loadavg()[0], note: "shared with other work: timings are upper bounds" },
    records: N,
    dim: DIM,
    partitions: PARTITIONS,
    session_timeout_sec: GROUP_SESSION_TIMEOUT_SEC,
    feed_ms: feedMs,
    // cpu_s: the indexer process's own CPU time (from its start for the first two, from the kill for the last), which the machine's load does not inflate.
    one_indexer: { answering_ms: answeringMs, all_live_ms: fullMs, rebuild_vectors_per_s: perSecond(N, fullMs - answeringMs), cpu_s: round1(fullCpu), vectors_per_cpu_s: Math.round(N / fullCpu) },
    join: { partition_live_on_new_ms: joinMs, moved_docs: N / PARTITIONS, rebuild_vectors_per_s: perSecond(N / PARTITIONS, joinMs), new_instance_cpu_s: round1(joinCpu), old_instance_cpu_s_meanwhile: round1(releaseCpu), released },
    kill: { reassigned_ms: reassignedMs, live_again_ms: failoverMs, rebuild_vectors_per_s: perSecond(N / PARTITIONS, failoverMs - reassignedMs), cpu_s: round1(failoverCpu), vectors_per_cpu_s: Math.round(N / PARTITIONS / failoverCpu) },
  };
  writeFileSync(RESULT, `${JSON.stringify({ ...result, release_in_process: previous.release_in_process }, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
} finally {
  for (const ix of started) {
    if (ix.child.exitCode === null && ix.child.signalCode === null) {
      const exited = new Promise((resolve) => ix.child.once("exit", resolve));
      ix.child.kill("SIGTERM");
      await exited;
    }
  }
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/**
 * Two partitions of `docs` documents each in a real index (LMDB + f16 graph,
 * the indexer's defaults: 32 shards, M 16, ef_add 64): partition 1 released in
 * steps, then partition 0 with the former synchronous release, each while a
 * probe measures how long the event loop is held.
 */
async function releaseInProcess(docs: number) {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-release-"));
  const { index } = VectorIndex.open({ dir, shards: 32, maxIdsPerShard: 0, hnsw: { connectivity: 16, efAdd: 64, efSearch: 64, quantization: "f16" } });
  try {
    let r = 777;
    const next = () => ((r = (r * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const buildStarted = performance.now();
    const BATCH = 500;
    for (const partition of [0, 1]) {
      for (let from = 0; from < docs; from += BATCH) {
        const records: IncomingRecord[] = [];
        for (let i = from; i < Math.min(docs, from + BATCH); i++) {
          const vector = Array.from({ length: DIM }, next);
          records.push({ offset: i, record: { topic: "t", text: `text ${i}`, doc_id: `p${partition}-${i}`, vector, kafka_ts: 1, embedded_ts: 2, model: MODEL, dim: DIM, normalized: false } });
        }
        index.apply("embeddings", partition, records, Math.min(docs, from + BATCH));
      }
    }
    const buildMs = performance.now() - buildStarted;
    console.log(`built ${2 * docs} documents in ${Math.round(buildMs)} ms`);
    const query = Float32Array.from({ length: DIM }, next);
    const norm = Math.hypot(...query);
    for (let i = 0; i < DIM; i++) query[i] = (query[i] as number) / norm;

    /** Run `work` while a 1 ms timer and a 10 ms HNSW query measure how long the loop is held. */
    const probe = async (work: () => Promise<number> | number) => {
      let last = performance.now();
      let longest = 0;
      const ticker = setInterval(() => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
      }, 1);
      const queryMs: number[] = [];
      let sent = performance.now();
      const querier = setInterval(() => {
        const waited = performance.now() - sent;
        const t = performance.now();
        searchIndex(index, query, { k: 10, exact: false });
        queryMs.push(waited - 10 + (performance.now() - t));
        sent = performance.now();
      }, 10);
      const started = performance.now();
      const cpu = process.cpuUsage();
      const removed = await work();
      const wallMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      clearInterval(ticker);
      clearInterval(querier);
      longest = Math.max(longest, performance.now() - last);
      const sorted = queryMs.sort((a, b) => a - b);
      return {
        documents: removed,
        wall_ms: Math.round(wallMs),
        cpu_ms: Math.round((used.user + used.system) / 1000),
        documents_per_s: Math.round((removed / wallMs) * 1000),
        longest_stall_ms: Math.round(longest * 10) / 10,
        queries_meanwhile: sorted.length,
        query_p99_ms: Math.round(percentile(sorted, 99) * 10) / 10,
      };
    };
    const steps: { documents: number; lmdbMs: number; graphMs: number }[] = [];
    const inSteps = await probe(() => index.releasePartition("embeddings", 1, { onStep: (_, step) => steps.push(step) }));
    const longestStep = steps.reduce((a, b) => (b.lmdbMs + b.graphMs > a.lmdbMs + a.graphMs ? b : a), steps[0] ?? { documents: 0, lmdbMs: 0, graphMs: 0 });
    const sum = (f: (s: (typeof steps)[number]) => number) => steps.reduce((n, s) => n + f(s), 0);
    const stepsSummary = {
      count: steps.length,
      longest: { documents: longestStep.documents, lmdb_ms: Math.round(longestStep.lmdbMs * 10) / 10, graph_ms: Math.round(longestStep.graphMs * 10) / 10 },
      lmdb_ms_per_document: Math.round((sum((s) => s.lmdbMs) / inSteps.documents) * 1000) / 1000,
      graph_ms_per_document: Math.round((sum((s) => s.graphMs) / inSteps.documents) * 1000) / 1000,
    };
    const synchronous = await probe(() => index.release("embeddings", 0));
    return {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, loadavg_1m: loadavg()[0], note: "shared with other work: timings are upper bounds" },
      documents_per_partition: docs,
      dim: DIM,
      quantization: "f16",
      build: { documents: 2 * docs, wall_ms: Math.round(buildMs), graph_and_lmdb_ms_per_document: Math.round((buildMs / (2 * docs)) * 1000) / 1000 },
      in_steps: { ...inSteps, steps: stepsSummary },
      synchronous,
      note: "in_steps is VectorIndex.releasePartition (what the indexer runs: ~10 ms steps, setImmediate between); synchronous is VectorIndex.release (the former path). Rebuilding the graph from what is left instead of removing costs build.graph_and_lmdb_ms_per_document per remaining document against in_steps' cost per removed one, so removing stays cheaper unless almost all of the graph goes",
    };
  } finally {
    await index.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
