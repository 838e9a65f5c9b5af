/**
 * The cluster test stage (`npm test -- cluster`): the pipeline on a real
 * three-node KRaft cluster, every topic replicated 3 times with
 * min.insync.replicas 2 (created by the workers themselves from
 * KAFKA_REPLICATION_FACTOR / KAFKA_MIN_INSYNC_REPLICAS), two bundled embedding
 * services behind one INFERMESH_URL list, two emb-indexers in one group. Steady
 * input flows while, in turn:
 *   1. the node that coordinates the most of the pipeline's transactions is
 *      killed with SIGKILL, and restarted once the pipeline has moved on without it
 *      (it rejoins while the next steps go on, and is back in every ISR before the end);
 *   2. one emb-indexer is killed: its partitions move to the other, which keeps
 *      answering queries; it is restarted later and takes its share back;
 *   3. one embedding service is killed: the other takes the load.
 * Then every input record must be exactly once in `embeddings` (read_committed,
 * by doc_id), exactly once across the Parquet files, and once in the index
 * (the union over both indexers), with nothing dead-lettered; the output's
 * longest stall after the node kill must stay close to the time the cluster
 * took to elect new leaders. The figures go to data/test-reports/cluster.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { Partitioners } from "kafkajs";
import { afterAll, expect, it } from "vitest";
import { createKafka } from "../../lib/kafka/client";
import { createLogger } from "../../lib/log";
import { type RealInfermesh, startRealInfermesh, startWorker, type WorkerProcess as EmbedWorker } from "../harness/embed-worker";
import { freePort } from "../harness/free-port";
import { getJson } from "../harness/http";
import { waitUntilConsumed } from "../harness/kafka-topics";
import { readParquetDir } from "../harness/parquet";
import { readTopic } from "../harness/read-topic";
import { repoRoot } from "../harness/repo-root";
import { waitFor } from "../harness/wait-for";
import { fetchEnds, longestGap, startTestCluster, topicSettings, waitUntilFailedOver, waitUntilFullyReplicated, worstNodeToLose } from "../harness/cluster";
import { kill9Group, startIndexer, startParseWorker, type WorkerProcess } from "../harness/pipeline-processes";
import { runId } from "../harness/unique";

const T = { input: "agent.results", parsed: "embedding_input", output: "embeddings", parseDlq: "agent.results.dlq", embedDlq: "embeddings_dlq" };
const PIPELINE_TOPICS = Object.values(T);
const INTERNAL_TOPICS = ["__consumer_offsets", "__transaction_state"];
const PARTITIONS = 3;
/** Input records per second: below what two one-session model servers embed on two busy cores, so a stall is the pipeline's, not a backlog's. */
const RATE_PER_SEC = 40;
/** What kafkajs clients may take beyond the election to move on (see the stall bound at the end). */
const CLIENT_RECOVERY_MS = 10_000;
/** Input records of a run at least (about a minute of input at RATE_PER_SEC). */
const MIN_RECORDS = 2500;
/** Records the output must gain after a kill before the next step: the pipeline really moved on. */
const PROGRESS = 200;

const log = createLogger("cluster-test", process.env.LOG_LEVEL ?? "warn");
const cleanups: (() => Promise<unknown>)[] = [];
const say = (line: string) => process.stdout.write(`cluster: ${line}\n`);
let explain: () => string = () => "";
let saveLogs: () => void = () => undefined;
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch((err: unknown) => say(`cleanup failed: ${String(err)}`));
});

interface Shards {
  total_ids: number;
  instance?: string;
  partitions?: { partition: number; state: "loading" | "live" }[];
}
const shards = (w: WorkerProcess) => getJson<Shards>(`${w.url}/knn/shards`, { signal: AbortSignal.timeout(5000) });

/** Per doc_id, how many times `seen` has it against how many times the input had it. */
function exactlyOnce(expected: Map<string, number>, seen: string[]) {
  const counts = new Map<string, number>();
  for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
  const missing = [...expected].filter(([id, n]) => (counts.get(id) ?? 0) < n).map(([id]) => id);
  const duplicated = [...counts].filter(([id, n]) => n > (expected.get(id) ?? 0)).map(([id]) => id);
  return { records: seen.length, missing: missing.length, duplicated: duplicated.length, examples: [...missing, ...duplicated].slice(0, 5) };
}

it("three brokers, two indexers, two embedding services: kill -9 one of each mid-run, every record exactly once", { timeout: 900_000 }, async () => {
  try {
    await scenario();
  } catch (err) {
    // A failure explains itself with what each process printed last (all of it in data/test-reports/cluster-logs/).
    say(explain());
    saveLogs();
    throw err;
  }
});

async function scenario(): Promise<void> {
  const began = Date.now();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "cluster-pipeline-"));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));

  // The cluster and both model servers load at the same time: the slowest parts of the start.
  const [cluster, embedders] = await Promise.all([
    startTestCluster(log, { partitions: PARTITIONS }),
    Promise.all([0, 1].map(() => startRealInfermesh({ INFERMESH_SESSIONS: "1", LOG_LEVEL: "warn" }))),
  ]);
  cleanups.push(() => cluster.destroy());
  for (const e of embedders) cleanups.push(() => stopEmbedder(e));
  const startedSec = (Date.now() - began) / 1000;
  say(`cluster ${cluster.brokers.join(",")} and two embedding services up in ${startedSec.toFixed(1)} s`);

  const shared: Record<string, string> = {
    KAFKA_BOOTSTRAP_SERVERS: cluster.brokers.join(","),
    KAFKA_REPLICATION_FACTOR: "3",
    KAFKA_MIN_INSYNC_REPLICAS: "2",
    EMBED_TOPIC_PARTITIONS: String(PARTITIONS),
    DATA_DIR: dataDir,
    INFERMESH_URL: embedders.map((e) => e.url).join(","),
  };
  const parquetDir = path.join(dataDir, "parquet");
  // The workers create every topic (none exists yet): the replication settings are theirs.
  // At info: their transaction and rebalance lines explain a failure (kept in memory, saved on failure).
  const parse = await startParseWorker({ ...shared, LOG_LEVEL: "info" });
  cleanups.push(() => parse.terminate());
  const embed: EmbedWorker = await startWorker({ ...shared, EMBED_PARQUET_DIR: parquetDir, EMBED_CACHE_SIZE: "0", LOG_LEVEL: "info" });
  cleanups.push(() => embed.terminate());
  // 6 s, the broker's least: a killed indexer's partitions move after this long.
  const indexerEnv = { ...shared, INDEXER_SESSION_TIMEOUT_SEC: "6" };
  const indexerPorts = [await freePort(), await freePort()];
  const indexers: WorkerProcess[] = await Promise.all(
    ["idx-a", "idx-b"].map((instance, i) => startIndexer(instance, { ...indexerEnv, INDEX_DIR: path.join(dataDir, `index-${instance}`) }, indexerPorts[i])),
  );
  for (const w of indexers) cleanups.push(() => w.terminate());
  explain = () =>
    [
      `--- parse worker\n${parse.output().slice(-3000)}`,
      `--- embed-worker\n${embed.output().slice(-3000)}`,
      ...indexers.map((w) => `--- ${w.name}\n${w.output().slice(-3000)}`),
      `--- cluster\n${cluster.output()}`,
    ].join("\n");

  saveLogs = () => {
    const dir = path.join(repoRoot, "data", "test-reports", "cluster-logs");
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of [["parse-worker", parse.output()], ["embed-worker", embed.output()], ...indexers.map((w) => [w.name.replace(/\W+/g, "-"), w.output()]), ["cluster", cluster.output()]] as const) {
      writeFileSync(path.join(dir, `${name}.log`), text);
    }
  };
  const kafka = createKafka({ clientId: "cluster-test", brokers: cluster.brokers, log: createLogger("cluster-test-kafka", "silent") });
  const settings = await topicSettings(kafka, PIPELINE_TOPICS);
  for (const topic of PIPELINE_TOPICS) {
    expect(settings[topic], topic).toEqual({ replicas: 3, minInsyncReplicas: "2", cleanupPolicy: topic === T.output ? "compact" : "delete" });
  }

  // Steady input, keyed by doc_id, from an idempotent producer (acks=all); a send that
  // fails is sent again, so the input topic itself is the truth of what was produced.
  const run = runId();
  const input = { produced: 0, stopped: false, failures: 0 };
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  cleanups.push(() => producer.disconnect());
  const perTick = Math.max(1, Math.round(RATE_PER_SEC / 10));
  const producing = (async () => {
    while (!input.stopped) {
      const from = input.produced;
      const messages = Array.from({ length: perTick }, (_, j) => {
        const id = `cl-${run}-${from + j}`;
        return { key: id, value: JSON.stringify({ id, text: `cluster record ${from + j}: three brokers, two indexers, two model servers and a kill -9 each` }) };
      });
      try {
        await producer.send({ topic: T.input, acks: -1, messages });
        input.produced += perTick;
      } catch {
        input.failures++;
      }
      await delay(100);
    }
  })();
  // The output as the embed-worker commits it (records_out counts records of committed
  // transactions): read over HTTP, so the observer has no Kafka client of its own to
  // recover (a consumer of the test's own would add its group's rejoin to every stall).
  const output = await watchCounter(`${embed.metricsUrl}/metrics`, "records_out");
  cleanups.push(() => output.stop());
  const outputGains = (n: number, what: string, timeoutMs = 240_000) => {
    const target = output.count() + n;
    return waitFor(`${n} more records in ${T.output} ${what}`, () => output.count() >= target, timeoutMs, 100);
  };
  await outputGains(PROGRESS, "before the first kill");
  say(`pipeline flowing: ${output.count()} records out, ${input.produced} in`);

  // ---- 1. A node dies: the one coordinating the most of the pipeline's transactions.
  const transactionalIds = ["parse-worker", ...Array.from({ length: PARTITIONS }, (_, p) => `embedline.embed-worker.${T.parsed}.${p}`)];
  const victim = await worstNodeToLose(cluster, [...PIPELINE_TOPICS, ...INTERNAL_TOPICS], transactionalIds);
  const node = cluster.nodes.find((n) => n.nodeId === victim.nodeId)!;
  const brokerKilledAt = Date.now();
  await node.kill9();
  say(`kill -9 node ${victim.nodeId} (coordinates ${victim.coordinates} of ${transactionalIds.length} transactional ids, leads ${victim.leads} partitions)`);
  const electionMs = await waitUntilFailedOver(cluster, [...PIPELINE_TOPICS, ...INTERNAL_TOPICS], victim.nodeId, brokerKilledAt);
  await outputGains(PROGRESS, `after node ${victim.nodeId} died`);
  const brokerStallMs = longestGap(output.arrivals, brokerKilledAt, Date.now());
  say(`new leaders after ${electionMs} ms; longest output stall ${brokerStallMs} ms`);
  // Restarted now, while the next kills go on: a JVM start and catching up with the
  // others takes minutes on two busy cores, and waiting for it would only lengthen the stage.
  const restartAt = Date.now();
  const rejoined = (async () => {
    await node.start();
    await waitUntilFullyReplicated(cluster, [...PIPELINE_TOPICS, ...INTERNAL_TOPICS], 400_000);
    const ms = Date.now() - restartAt;
    say(`node ${victim.nodeId} restarted and back in every ISR in ${ms} ms`);
    return ms;
  })();
  // Awaited below; a failure meanwhile must not go unhandled.
  rejoined.catch(() => undefined);

  // ---- 2. An indexer dies: its partitions move, the other keeps answering.
  const owned = await Promise.all(indexers.map(async (w) => (await shards(w)).partitions?.length ?? 0));
  const doomed = owned[0]! >= owned[1]! ? 0 : 1;
  const survivor = indexers[1 - doomed]!;
  const query = { vector: Array.from({ length: 384 }, (_, i) => Math.sin(i + 1)), k: 5 };
  const answers = { ok: 0, failed: [] as string[] };
  const ask = async () => {
    try {
      const res = await fetch(`${survivor.url}/knn/query`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(query), signal: AbortSignal.timeout(10_000) });
      const body = (await res.json()) as { neighbors?: unknown[] };
      if (res.status === 200 && Array.isArray(body.neighbors)) answers.ok++;
      else answers.failed.push(`${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    } catch (err) {
      answers.failed.push(err instanceof Error ? err.message : String(err));
    }
  };
  const indexerKilledAt = Date.now();
  await indexers[doomed]!.kill9();
  say(`kill -9 ${indexers[doomed]!.name} (owned ${owned[doomed]} partitions)`);
  const moved = await waitFor(
    `${survivor.name} to own every partition, live`,
    async () => {
      await ask();
      const s = await shards(survivor);
      return s.partitions?.length === PARTITIONS && s.partitions.every((p) => p.state === "live") ? Date.now() - indexerKilledAt : undefined;
    },
    120_000,
    250,
  );
  say(`${survivor.name} owns all ${PARTITIONS} partitions, live, ${moved} ms after the kill; ${answers.ok} queries answered meanwhile`);

  // ---- 3. An embedding service dies: the other takes the load.
  const embedderKilledAt = Date.now();
  await kill9Group(embedders[0]!.pid()!);
  say(`kill -9 the embedding service on ${embedders[0]!.url}`);
  await outputGains(PROGRESS, "after an embedding service died");
  const embedderStallMs = longestGap(output.arrivals, embedderKilledAt, Date.now());
  const upstreams = (await getJson<{ upstreams?: { url: string; state: string }[] }>(`${embed.metricsUrl}/metrics`)).upstreams ?? [];
  say(`longest output stall after the embedding service died: ${embedderStallMs} ms; upstreams ${JSON.stringify(upstreams.map((u) => u.state))}`);

  // ---- The killed indexer comes back with its id and index: it takes its share back.
  indexers[doomed] = await startIndexer(doomed === 0 ? "idx-a" : "idx-b", { ...indexerEnv, INDEX_DIR: path.join(dataDir, `index-${doomed === 0 ? "idx-a" : "idx-b"}`) }, indexerPorts[doomed]);
  const back = indexers[doomed]!;
  cleanups.push(() => back.terminate());

  const rejoinMs = await rejoined;
  // A few thousand records in all, whatever the phases took.
  await waitFor(`${MIN_RECORDS} records produced`, () => input.produced >= MIN_RECORDS, 300_000, 100);
  input.stopped = true;
  await producing;
  say(`input stopped at ${input.produced} records (${input.failures} sends failed and were sent again)`);
  // Every acknowledged send is in the input topic (kafkajs once lost some when a leader
  // died mid-send: patches/kafkajs+2.2.4.patch); nothing else is (no send failed).
  const landed = (await fetchEnds(kafka, T.input)).reduce((n, o) => n + Number(o.high), 0);
  expect(landed).toBe(input.produced);
  await waitUntilConsumed(kafka, "parse-worker", T.input, 300_000);
  await waitUntilConsumed(kafka, "embed-worker", T.parsed, 300_000);
  const union = await waitFor(
    "the indexers to hold every partition between them, live, and every record",
    async () => {
      const all = await Promise.all(indexers.map(shards));
      const parts = all.flatMap((s) => s.partitions ?? []);
      const complete = all.every((s) => (s.partitions?.length ?? 0) > 0) && parts.length === PARTITIONS && new Set(parts.map((p) => p.partition)).size === PARTITIONS && parts.every((p) => p.state === "live");
      const total = all.reduce((n, s) => n + s.total_ids, 0);
      return complete && total >= landed ? { total, all } : undefined;
    },
    300_000,
    500,
  );

  const dlq = { parse: (await readTopic(kafka, T.parseDlq)).length, embed: (await readTopic(kafka, T.embedDlq)).length };
  const indexTotals = await Promise.all(indexers.map(async (w) => (await shards(w)).total_ids));
  const outputIds = (await readTopic(kafka, T.output)).map((r) => String((JSON.parse(r.value) as { doc_id: unknown }).doc_id));
  const parquetIds = readParquetDir(parquetDir).map((r) => String(r.doc_id));
  // The hop in between too: a duplicate there is the parse stage's, not the embed stage's.
  const parsedIds = (await readTopic(kafka, T.parsed)).map((r) => String((JSON.parse(r.value) as { doc_id: unknown }).doc_id));
  const expected = new Map<string, number>();
  for (const r of await readTopic(kafka, T.input)) {
    const id = (JSON.parse(r.value) as { id: string }).id;
    expected.set(id, (expected.get(id) ?? 0) + 1);
  }
  const parsedCheck = exactlyOnce(expected, parsedIds);
  const kafkaCheck = exactlyOnce(expected, outputIds);
  const parquetCheck = exactlyOnce(expected, parquetIds);
  const durationSec = (Date.now() - began) / 1000;

  const report = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, load: os.loadavg() },
    duration_sec: durationSec,
    start_sec: startedSec,
    records: { input: [...expected.values()].reduce((a, b) => a + b, 0), distinct: expected.size, failed_sends: input.failures },
    broker_kill: { node: victim.nodeId, coordinated_transactional_ids: victim.coordinates, led_partitions: victim.leads, election_ms: electionMs, longest_output_stall_ms: brokerStallMs, rejoin_ms: rejoinMs },
    indexer_kill: { instance: indexers[doomed]!.name, partitions_moved_ms: moved, queries_answered: answers.ok, queries_failed: answers.failed.length },
    embedder_kill: { longest_output_stall_ms: embedderStallMs, upstreams: upstreams.map((u) => u.state) },
    exactly_once: { embedding_input: parsedCheck, embeddings: kafkaCheck, parquet: parquetCheck, index: { per_instance: indexTotals, union: union.total }, dlq },
  };
  mkdirSync(path.join(repoRoot, "data", "test-reports"), { recursive: true });
  writeFileSync(path.join(repoRoot, "data", "test-reports", "cluster.json"), `${JSON.stringify(report, null, 2)}\n`);
  say(JSON.stringify(report));

  expect(expected.size).toBeGreaterThanOrEqual(MIN_RECORDS);
  expect(parsedCheck).toMatchObject({ missing: 0, duplicated: 0 });
  expect(kafkaCheck).toMatchObject({ missing: 0, duplicated: 0 });
  expect(parquetCheck).toMatchObject({ missing: 0, duplicated: 0 });
  expect(indexTotals.reduce((a, b) => a + b, 0)).toBe(expected.size);
  expect(dlq).toEqual({ parse: 0, embed: 0 });
  expect(answers.failed).toEqual([]);
  expect(answers.ok).toBeGreaterThan(0);
  // The output stalls while the cluster elects new leaders, plus what clients take to
  // notice (kafkajs refreshes metadata on its next failed request and retries with
  // backoff; a transaction in flight is aborted and redone): 0.2-0.6 s beyond it in the
  // runs since the consumer patch, up to ~7 s before it when the coordinator survived.
  // A consumer whose group coordinator died no longer crashes and rejoins as a new
  // member (35 s once against a 6.4 s election: retries run out, then a 30 s session
  // timeout): patches/kafkajs+2.2.4.patch finds the new coordinator and keeps its
  // membership, and an unreachable leader makes its fetch re-read metadata instead of
  // using up retries (tests/unit/kafkajs-coordinator-failover.test.ts).
  expect(brokerStallMs).toBeLessThan(electionMs + CLIENT_RECOVERY_MS);
  // A dead embedding service costs its in-flight calls, retried on the other at once.
  expect(embedderStallMs).toBeLessThan(15_000);
}

/** Poll a counter of a JSON /metrics every 100 ms, noting when it grew: the arrivals of its output. */
async function watchCounter(url: string, field: string): Promise<{ count(): number; arrivals: number[]; stop(): Promise<void> }> {
  let count = Number((await getJson(url))[field]);
  const arrivals: number[] = [];
  let stopped = false;
  const polling = (async () => {
    while (!stopped) {
      try {
        const now = Number((await getJson(url, { signal: AbortSignal.timeout(2000) }))[field]);
        if (now > count) arrivals.push(Date.now());
        count = Math.max(count, now);
      } catch {
        // A busy worker answers late; the next poll counts what this one missed.
      }
      await delay(100);
    }
  })();
  return { count: () => count, arrivals, stop: async () => void ((stopped = true), await polling) };
}

async function stopEmbedder(e: RealInfermesh): Promise<void> {
  const pid = e.pid();
  if (pid !== undefined) await kill9Group(pid).catch(() => undefined);
}
