/**
 * Shared by the embed-worker integration tests: run the worker as a real
 * process, feed embedding_input, and read back what it committed (Kafka
 * read_committed, Parquet files) to check exactly-once.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import kafkajs, { Partitioners, type Kafka } from "kafkajs";
import { chunkRecords } from "../../lib/kafka/record-limits";
import { ensureTopics } from "../../lib/kafka/topics";
import { fromParquet } from "../../lib/parquet";
import { freePort } from "../../scripts/launcher/ports";
import { startCommand, type RunningCommand } from "../harness/processes";
import { waitFor } from "../harness/wait-for";

export const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
export const unique = (what: string) => `it-${what}-${Date.now()}-${randomUUID().slice(0, 8)}`;

export interface WorkerProcess extends RunningCommand {
  metricsUrl: string;
  kill9(): Promise<void>;
  terminate(): Promise<number | null>;
}

/** `nodeArgs`: extra node flags for the worker (the benchmark's `--cpu-prof`, which NODE_OPTIONS refuses). */
export async function startWorker(env: Record<string, string>, nodeArgs: string[] = []): Promise<WorkerProcess> {
  const port = await freePort();
  const cmd = startCommand(process.execPath, [...nodeArgs, "--conditions=react-server", "--import", "tsx", path.join(repoRoot, "workers/embed/index.ts")], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: process.env.EMBED_TEST_LOG_LEVEL ?? "info", SHUTDOWN_TIMEOUT_SEC: "20", EMBED_METRICS_PORT: String(port), ...env },
  });
  const metricsUrl = `http://127.0.0.1:${port}`;
  await waitFor(`embed-worker on ${metricsUrl} (output: ${cmd.output().slice(-2000)})`, async () => {
    if (cmd.child.exitCode !== null) throw new Error(`worker exited ${cmd.child.exitCode}: ${cmd.output().slice(-3000)}`);
    return (await fetch(`${metricsUrl}/health`)).ok;
  }, 60_000);
  return {
    ...cmd,
    metricsUrl,
    async kill9() {
      process.kill(-cmd.child.pid!, "SIGKILL");
      await cmd.exited;
    },
    async terminate() {
      if (cmd.child.exitCode !== null) return cmd.child.exitCode;
      cmd.child.kill("SIGTERM");
      return cmd.exited;
    },
  };
}

/** Bytes per produce request of the tests' input (kafkajs does not split a batch by size). */
const PRODUCE_CHUNK_BYTES = 900 * 1024;

/** Create `topics` with per-topic configuration, e.g. a small `max.message.bytes` (the worker's ensureTopics leaves existing topics as they are). */
export async function createTopicsWithConfig(kafka: Kafka, topics: { topic: string; config?: Record<string, string> }[], partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map(({ topic, config = {} }) => ({ topic, numPartitions: partitions, replicationFactor: -1, configEntries: Object.entries(config).map(([name, value]) => ({ name, value })) })),
    });
  } finally {
    await admin.disconnect();
  }
  await ensureTopics(kafka, topics.map((t) => t.topic), partitions);
}

/** Change a topic's configuration on the running broker (e.g. lower `max.message.bytes` under a running worker). */
export async function alterTopicConfig(kafka: Kafka, topic: string, config: Record<string, string>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configEntries: Object.entries(config).map(([name, value]) => ({ name, value })) }] });
  } finally {
    await admin.disconnect();
  }
}

export async function getJson<T = Record<string, unknown>>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  return (await res.json()) as T;
}

export async function produce(
  kafka: Kafka,
  topic: string,
  values: (string | Buffer | null)[],
  keyOf?: (i: number) => string,
  headersOf?: (i: number) => Record<string, string> | undefined,
): Promise<void> {
  // Idempotent: a retried send must not duplicate input that exactly-once checks count.
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const messages = values.map((value, i) => ({ key: keyOf?.(i) ?? `k${i}`, value, headers: headersOf?.(i) }));
    // At most 500 per request, and batches under the broker's default limit: a
    // message near the input topic's limit goes on its own.
    for (let i = 0; i < messages.length; i += 500) {
      for (const chunk of chunkRecords(messages.slice(i, i + 500), PRODUCE_CHUNK_BYTES)) await producer.send({ topic, acks: -1, messages: chunk });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * Write `values` to one partition in one transaction, committed or aborted,
 * as the parse stage writes embedding_input; resolves once the transaction's
 * marker is in the log (the coordinator writes it after answering).
 */
export async function produceTransaction(kafka: Kafka, topic: string, partition: number, values: string[], outcome: "commit" | "abort"): Promise<void> {
  const admin = kafka.admin();
  const producer = kafka.producer({ transactionalId: unique("input-tx"), idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await Promise.all([admin.connect(), producer.connect()]);
  try {
    const end = async () => BigInt((await admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition)!.high);
    const expected = (await end()) + BigInt(values.length) + 1n;
    const tx = await producer.transaction();
    await tx.send({ topic, messages: values.map((value, i) => ({ partition, key: `tx${i}`, value })) });
    await (outcome === "commit" ? tx.commit() : tx.abort());
    await waitFor(`the ${outcome} marker on ${topic}/${partition}`, async () => (await end()) === expected);
  } finally {
    await Promise.all([admin.disconnect(), producer.disconnect()]);
  }
}

/** Wait until the group has committed every input record (offsets = end offsets). */
export async function waitUntilConsumed(kafka: Kafka, group: string, topic: string, timeoutMs = 120_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    await waitFor(`group ${group} to commit all of ${topic}`, async () => {
      const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      // "-1": nothing committed, which is all there is to commit on an empty partition.
      const committed = (p: number) => BigInt(entry?.partitions.find((x) => x.partition === p)?.offset ?? "-1");
      return ends.every((e) => (committed(e.partition) < 0n ? 0n : committed(e.partition)) === BigInt(e.high));
    }, timeoutMs, 250);
  } finally {
    await admin.disconnect();
  }
}

export interface Committed {
  partition: number;
  key: string;
  value: Record<string, unknown>;
  headers: Record<string, string>;
}

/**
 * Everything committed to `topic`, read_committed: end markers written in a
 * transaction after the worker finished make "nothing more" checkable.
 */
export async function readCommitted(kafka: Kafka, topic: string): Promise<Committed[]> {
  const admin = kafka.admin();
  await admin.connect();
  const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length;
  await admin.disconnect();
  const marker = kafka.producer({ transactionalId: unique("marker"), idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await marker.connect();
  const tx = await marker.transaction();
  // Keyed: a compacted topic (EMBED_OUTPUT_TOPIC, when a worker created it) refuses records without a key.
  await tx.send({ topic, messages: Array.from({ length: partitions }, (_, partition) => ({ partition, key: "end", value: "end" })) });
  await tx.commit();
  await marker.disconnect();

  const consumer = kafka.consumer({ groupId: unique("reader"), readUncommitted: false, maxWaitTimeInMs: 250 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const out: Committed[] = [];
  const ended = new Set<number>();
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const v = message.value?.toString() ?? "";
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, h]) => [k, String(h)]));
      if (v === "end") ended.add(partition);
      else out.push({ partition, key: message.key?.toString() ?? "", value: JSON.parse(v) as Record<string, unknown>, headers });
    },
  });
  await waitFor(`end markers on ${topic}`, () => ended.size === partitions, 60_000, 100);
  await consumer.disconnect();
  return out;
}

/** Every row of every Parquet file in `dir`, with the file it came from. */
export function readParquetDir(dir: string): (Record<string, unknown> & { file: string })[] {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir).filter((f) => f.endsWith(".parquet")).sort();
  } catch {
    return [];
  }
  return entries.flatMap((file) => fromParquet(readFileSync(path.join(dir, file))).toArray().map((r) => ({ ...(r.toJSON() as Record<string, unknown>), file })));
}

export const inputRecord = (i: number, extra: Record<string, unknown> = {}) => JSON.stringify({ text: `record number ${i}: the quick brown fox`, topic: "agent.results", kafka_ts: 1700000000 + i, doc_id: `doc-${i}`, ...extra });


export interface RealInfermesh {
  url: string;
  port: number;
  /** Process id of the running service (undefined while stopped). */
  pid(): number | undefined;
  output(): string;
  /** SIGTERM and wait for the exit: connections are refused until start(). */
  stop(): Promise<void>;
  /** Start it again on the same port and wait until the model answers. */
  start(): Promise<void>;
}

/**
 * The bundled embedding service (workers/infermesh) with the real model, as a
 * process of its own on a free port, so a test can stop and restart it.
 */
export async function startRealInfermesh(env: Record<string, string> = {}): Promise<RealInfermesh> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let cmd: RunningCommand | undefined;
  let log = "";
  const start = async () => {
    cmd = startCommand(process.execPath, ["--conditions=react-server", "--import", "tsx", path.join(repoRoot, "workers/infermesh/index.ts")], {
      cwd: repoRoot,
      env: { ...process.env, INFERMESH_PORT: String(port), INFERMESH_HOST: "127.0.0.1", LOG_LEVEL: "info", SHUTDOWN_TIMEOUT_SEC: "10", ...env },
    });
    const running = cmd;
    // Loading the model takes seconds, more on a busy machine.
    await waitFor(`the embedding service on ${url} to load its model`, async () => {
      if (running.child.exitCode !== null) throw new Error(`embedding service exited ${running.child.exitCode}: ${running.output().slice(-2000)}`);
      return (await fetch(`${url}/health`)).status === 200;
    }, 180_000, 250);
  };
  await start();
  return {
    url,
    port,
    pid: () => (cmd && cmd.child.exitCode === null ? cmd.child.pid : undefined),
    output: () => log + (cmd?.output() ?? ""),
    async stop() {
      if (!cmd || cmd.child.exitCode !== null) return;
      const running = cmd;
      running.child.kill("SIGTERM");
      await running.exited;
      log += running.output();
    },
    start,
  };
}

export interface ReddbServer {
  url: string;
  close(): Promise<void>;
}

/** The bundled RedDB-compatible store (workers/reddb) as a process of its own, on a free port, with a fresh LMDB directory. */
export async function startReddb(env: Record<string, string> = {}): Promise<ReddbServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "embed-reddb-"));
  const cmd = startCommand(process.execPath, ["--conditions=react-server", "--import", "tsx", path.join(repoRoot, "workers/reddb/index.ts")], {
    cwd: repoRoot,
    env: { ...process.env, REDDB_HOST: "127.0.0.1", REDDB_PORT: String(port), REDDB_DATA_DIR: dataDir, LOG_LEVEL: "warn", ...env },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`RedDB on ${url}`, async () => {
    if (cmd.child.exitCode !== null) throw new Error(`RedDB exited ${cmd.child.exitCode}: ${cmd.output().slice(-2000)}`);
    return (await fetch(`${url}/health`)).ok;
  }, 60_000);
  return {
    url,
    async close() {
      if (cmd.child.exitCode === null) {
        cmd.child.kill("SIGTERM");
        await cmd.exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
