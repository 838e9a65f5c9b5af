/**
 * A real three-node Kafka cluster for the cluster test stage (tests/cluster):
 * three KRaft nodes (broker + controller each) on free ports, lean 256 MB JVMs,
 * state in a temp dir. Plus what a fail-over test asks of it: which node to
 * kill, when its partitions have new leaders, when it is back in every ISR,
 * and how long the output went quiet around a kill.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import kafkajs, { type Kafka } from "kafkajs";
import { createKafka } from "../../lib/kafka/client";
import { createLogger, type Logger } from "../../lib/log";
import { ensureKafkaInstalled, startLocalCluster, type LocalCluster } from "../../scripts/kafka/broker";
import { waitFor } from "./wait-for";

export interface TestCluster extends LocalCluster {
  /** The last lines every node printed, for a failure report. */
  output(): string;
  /** Kill every node and remove the data. */
  destroy(): Promise<void>;
}

/** 256 MB each: three JVMs beside the pipeline and two model servers on one small machine. */
const NODE_HEAP = "256m";

export async function startTestCluster(log: Logger, { nodes = 3, partitions = 3 } = {}): Promise<TestCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "kafka-cluster-"));
  const lines: string[] = [];
  try {
    const classpath = await ensureKafkaInstalled(log);
    const cluster = await startLocalCluster(
      // Three JVMs starting together on two busy cores: minutes are possible, never hours.
      { nodes, dir, heap: NODE_HEAP, lean: true, partitions, startTimeoutMs: 240_000 },
      log,
      { classpath, onOutput: (line) => void (lines.push(line) > 300 && lines.shift()) },
    );
    return {
      ...cluster,
      output: () => lines.slice(-80).join("\n"),
      async destroy() {
        await cluster.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- cluster output:\n${lines.slice(-40).join("\n")}`, { cause: err });
  }
}

const quiet = createLogger("cluster-probe", "silent");

/**
 * One metadata read through a fresh client bootstrapped from the running nodes
 * only, with no retries: a client of its own never waits on a dead node's
 * connection. Undefined when that read failed (the caller polls again).
 */
async function metadata(cluster: LocalCluster, topics: string[]) {
  const alive = cluster.nodes.filter((n) => n.pid() !== undefined).map((n) => n.broker);
  const admin = createKafka({ clientId: "cluster-probe", brokers: alive, log: quiet, retries: 0, connectionTimeoutMs: 1000 }).admin();
  try {
    await admin.connect();
    return (await admin.fetchTopicMetadata({ topics })).topics;
  } catch {
    return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Partitions each node leads, over `topics`. */
export async function leadership(cluster: LocalCluster, topics: string[]): Promise<Map<number, number>> {
  const meta = await waitFor("topic metadata", () => metadata(cluster, topics), 60_000, 250);
  const counts = new Map<number, number>(cluster.nodes.map((n) => [n.nodeId, 0]));
  for (const t of meta) for (const p of t.partitions) counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
  return counts;
}

/** Java's String.hashCode, as Kafka hashes a transactional id or group id to its coordinator's partition. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Partition of __transaction_state (or __consumer_offsets) that coordinates `id`: Utils.abs(hashCode) % partitions. */
export const coordinatorPartition = (id: string, partitions: number) => (javaHash(id) & 0x7fffffff) % partitions;

/**
 * The node whose death hurts most: the transaction coordinator of the most of
 * `transactionalIds` (its in-flight transactions must be recovered by another
 * node), then the leader of the most partitions of `topics`.
 */
export async function worstNodeToLose(cluster: LocalCluster, topics: string[], transactionalIds: string[]): Promise<{ nodeId: number; coordinates: number; leads: number }> {
  const [txnState] = await waitFor("__transaction_state metadata", () => metadata(cluster, ["__transaction_state"]), 60_000, 250);
  const txnLeader = new Map(txnState!.partitions.map((p) => [p.partitionId, p.leader]));
  const coordinates = new Map<number, number>();
  for (const id of transactionalIds) {
    const leader = txnLeader.get(coordinatorPartition(id, txnState!.partitions.length));
    if (leader !== undefined) coordinates.set(leader, (coordinates.get(leader) ?? 0) + 1);
  }
  const leads = await leadership(cluster, topics);
  const ranked = cluster.nodes
    .map((n) => ({ nodeId: n.nodeId, coordinates: coordinates.get(n.nodeId) ?? 0, leads: leads.get(n.nodeId) ?? 0 }))
    .sort((a, b) => b.coordinates - a.coordinates || b.leads - a.leads || a.nodeId - b.nodeId);
  return ranked[0]!;
}

/**
 * Resolves once no partition of `topics` is led by `nodeId` or counts it in its
 * ISR: the controller fenced it and moved everything it led. Milliseconds since `since`.
 */
export async function waitUntilFailedOver(cluster: LocalCluster, topics: string[], nodeId: number, since: number): Promise<number> {
  await waitFor(
    `partitions led by node ${nodeId} to get new leaders`,
    async () => (await metadata(cluster, topics))?.every((t) => t.partitions.every((p) => p.leader >= 0 && p.leader !== nodeId && !p.isr.includes(nodeId))),
    120_000,
    100,
  );
  return Date.now() - since;
}

/** Resolves once every partition of `topics` has all its replicas in sync again. */
export async function waitUntilFullyReplicated(cluster: LocalCluster, topics: string[], timeoutMs = 180_000): Promise<void> {
  await waitFor(
    `every replica of ${topics.join(", ")} back in sync`,
    async () => (await metadata(cluster, topics))?.every((t) => t.partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length)),
    timeoutMs,
    250,
  );
}

export interface TopicSettings {
  replicas: number;
  minInsyncReplicas: string | undefined;
  cleanupPolicy: string | undefined;
}

/** Replicas per partition and the settings a topic was created with, as the cluster reports them. */
export async function topicSettings(kafka: Kafka, topics: string[]): Promise<Record<string, TopicSettings>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics: meta } = await admin.fetchTopicMetadata({ topics });
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: ["min.insync.replicas", "cleanup.policy"] })),
    });
    return Object.fromEntries(
      topics.map((topic) => {
        const entries = resources.find((r) => r.resourceName === topic)?.configEntries ?? [];
        const value = (name: string) => entries.find((e) => e.configName === name)?.configValue;
        const replicas = Math.min(...(meta.find((t) => t.name === topic)?.partitions.map((p) => p.replicas.length) ?? [0]));
        return [topic, { replicas, minInsyncReplicas: value("min.insync.replicas"), cleanupPolicy: value("cleanup.policy") }];
      }),
    );
  } finally {
    await admin.disconnect();
  }
}

/** End offsets of `topic`'s partitions. */
export async function fetchEnds(kafka: Kafka, topic: string): Promise<{ partition: number; high: string }[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
}

/** The longest time without an arrival within [from, to]: the output's longest stall there. */
export function longestGap(arrivals: number[], from: number, to: number): number {
  const inside = arrivals.filter((t) => t > from && t <= to);
  const before = arrivals.filter((t) => t <= from).at(-1) ?? from;
  let longest = 0;
  let last = before;
  for (const t of [...inside, to]) {
    longest = Math.max(longest, t - last);
    last = t;
  }
  return longest;
}
