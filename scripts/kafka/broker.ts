import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import type { StackConfig } from "../../lib/config/stack";
import { createKafka } from "../../lib/kafka/client";
import { compactedTopic, ensureTopics, warnExistingDiffers, type TopicReplication } from "../../lib/kafka/topics";
import type { Logger } from "../../lib/log";
import { run, tail } from "../install/run";
import { assertPortFree, freePort } from "../launcher/ports";
import { StackError } from "../stack-error";
import { ensureKafkaInstalled, JAVA_HINT } from "./install";
import { jvmArgs, log4jConfigPath, serverProperties, type KafkaNodeSpec } from "./server-properties";

export { ensureKafkaInstalled } from "./install";

/**
 * Running Kafka nodes (KRaft, broker + controller in one JVM) on this machine:
 * the single-node broker `npm start` and the integration tests run when no
 * external cluster is given, and the three-node cluster of the cluster test
 * stage. Jars come from Maven (./install.ts); state lives under the given dir.
 */

export type KafkaStackConfig = StackConfig["kafka"];

export interface LocalBroker {
  child: ChildProcess;
  /** Bootstrap servers of this broker, e.g. ["127.0.0.1:9092"]. */
  brokers: string[];
  /** Kafka version the JVM reported at start ("4.4.0"), if it printed one. */
  version: string | undefined;
  /** SIGTERM, then SIGKILL after a bound; resolves once the JVM has exited. Idempotent. */
  stop(): Promise<void>;
}

export interface StartBrokerOptions {
  /** Every line the JVM prints (stdout and stderr). Default: logged at info. */
  onOutput?: (line: string) => void;
  /** A classpath from ensureKafkaInstalled; resolved here when absent. */
  classpath?: string;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number;
  /** The JVM was spawned (before it is ready): the launcher's supervisor can stop a start under way. */
  onSpawn?: (child: ChildProcess) => void;
}

/** Lines of JVM output kept to explain a failed start. */
const TAIL_LINES = 40;
/** A single-node KRaft broker stops in 1-3 s; beyond this something hangs. */
const DEFAULT_STOP_TIMEOUT_MS = 15_000;
/** Between readiness probes: a JVM start takes seconds, a probe ~1 ms when refused. */
const PROBE_INTERVAL_MS = 250;

// ---------------------------------------------------------------- one JVM

type ExitState = { code: number | null; signal: NodeJS.Signals | null };

interface NodeProcess {
  child: ChildProcess;
  version(): string | undefined;
  exitState(): ExitState | undefined;
  exited: Promise<void>;
  spawnFailed: Promise<Error>;
  /** The last TAIL_LINES lines the JVM printed. */
  lines: string[];
  /** SIGTERM, then SIGKILL after stopTimeoutMs; resolves once the JVM has exited. Idempotent. */
  stop(): Promise<void>;
}

/** Write the node's server.properties, format its storage on first use, and run its JVM. */
async function spawnNode(
  spec: KafkaNodeSpec,
  dir: string,
  clusterIdFile: string,
  heap: string,
  classpath: string,
  log: Logger,
  opts: StartBrokerOptions & { lean?: boolean },
): Promise<NodeProcess> {
  await fs.mkdir(spec.logDir, { recursive: true });
  const propsFile = path.join(dir, "server.properties");
  await fs.writeFile(propsFile, serverProperties(spec));
  await formatStorageOnce(classpath, dir, spec.logDir, propsFile, clusterIdFile, log);

  const child = spawn("java", [...jvmArgs(heap, { lean: opts.lean }), "-cp", classpath, "kafka.Kafka", propsFile], {
    cwd: dir, // hs_err_pid*.log and the like land in the data dir, not the repo
    stdio: ["ignore", "pipe", "pipe"],
  });
  opts.onSpawn?.(child);

  let exit: ExitState | undefined;
  const spawnFailed = new Promise<Error>((resolve) => child.once("error", resolve));
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      resolve();
    });
    // A JVM that never started never emits "exit"; stop() must not wait for it.
    void spawnFailed.then(() => {
      if (child.pid === undefined) {
        exit ??= { code: null, signal: null };
        resolve();
      }
    });
  });
  // Never leave an orphaned JVM behind if this process exits without calling stop().
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  // A JVM that died on its own (kill -9, out of memory) needs no killing: the
  // launcher restarts the broker, and each start must not leave a listener behind.
  void exited.then(() => process.off("exit", killOnExit));

  const lines: string[] = [];
  let version: string | undefined;
  const onLine = (line: string) => {
    lines.push(line);
    if (lines.length > TAIL_LINES) lines.shift();
    version ??= /Kafka version: (\S+)/.exec(line)?.[1];
    if (opts.onOutput) opts.onOutput(line);
    else log.info({ process: "kafka", node: spec.nodeId }, line);
  };
  for (const stream of [child.stdout, child.stderr]) readline.createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);

  const stopTimeoutMs = opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (!exit) {
        child.kill("SIGTERM");
        if (!(await settlesWithin(exited, stopTimeoutMs))) {
          log.warn({ stopTimeoutMs, node: spec.nodeId }, "Kafka broker did not stop after SIGTERM; killing it");
          child.kill("SIGKILL");
          await exited;
        }
      }
      process.off("exit", killOnExit);
      log.info({ code: exit?.code, signal: exit?.signal, node: spec.nodeId }, "Kafka broker stopped");
    })());
  return { child, version: () => version, exitState: () => exit, exited, spawnFailed, lines, stop };
}

// ---------------------------------------------------------------- single node

/**
 * Start the local broker: check its ports, format its storage on first use, run
 * the JVM, wait until it answers a client, create the stack's topics.
 */
export async function startLocalBroker(kafkaCfg: KafkaStackConfig, log: Logger, opts: StartBrokerOptions = {}): Promise<LocalBroker> {
  const { port, controllerPort, dir } = kafkaCfg;
  if (port === controllerPort) throw new StackError(`KAFKA_PORT and KAFKA_CONTROLLER_PORT are both ${port}: give them different ports`);
  await assertPortFree(port, "kafka", "KAFKA_PORT");
  await assertPortFree(controllerPort, "the kafka controller", "KAFKA_CONTROLLER_PORT");

  const classpath = opts.classpath ?? (await ensureKafkaInstalled(log));
  const spec: KafkaNodeSpec = { nodeId: 1, port, controllerPort, voters: [{ nodeId: 1, controllerPort }], logDir: path.join(dir, "logs"), partitions: kafkaCfg.partitions };
  const brokers = [`127.0.0.1:${port}`];
  const started = Date.now();
  const node = await spawnNode(spec, dir, path.join(dir, "cluster.id"), kafkaCfg.heap, classpath, log, opts);

  try {
    await waitUntilAnswering(brokers, kafkaCfg.startTimeoutMs, log, node);
  } catch (err) {
    await node.stop();
    throw err;
  }
  log.info({ brokers, version: node.version(), durationMs: Date.now() - started, dir }, "Kafka broker ready");

  try {
    const kafka = createKafka({ clientId: "embedline-launcher", brokers, log });
    const created = await ensureTopics(kafka, kafkaCfg.topics, kafkaCfg.partitions, { ...kafkaCfg.replication, configs: compactedTopic(kafkaCfg.outputTopic), onExistingDiffers: warnExistingDiffers(log) });
    log.info({ created, topics: kafkaCfg.topics, partitions: kafkaCfg.partitions }, "Kafka topics ready");
  } catch (err) {
    await node.stop();
    throw new StackError(`Kafka broker started but the stack's topics could not be created: ${oneLine(err)}`, tail(node.lines, 20));
  }
  return { child: node.child, brokers, version: node.version(), stop: node.stop };
}

// ---------------------------------------------------------------- cluster

export interface LocalClusterOptions {
  /** Nodes, each a combined broker + controller and a voter of the KRaft quorum. */
  nodes: number;
  /** State of node i under `<dir>/node-<i>`; the cluster id in `<dir>/cluster.id`. */
  dir: string;
  /** Heap of each JVM. */
  heap: string;
  /** Lighter JVMs (server-properties.ts jvmArgs): for a cluster sharing a small machine with everything else. */
  lean?: boolean;
  /** Partitions of auto-created topics (and of `topics`). */
  partitions: number;
  startTimeoutMs: number;
  /** Topics created once the cluster answers, with `replication`; `compacted` among them is created compacted. */
  topics?: string[];
  compacted?: string;
  replication?: TopicReplication;
}

export interface ClusterNode {
  nodeId: number;
  /** "127.0.0.1:<port>" */
  broker: string;
  port: number;
  controllerPort: number;
  /** Process id of the running JVM; undefined while the node is down. */
  pid(): number | undefined;
  /** SIGKILL (a crash: no controlled shutdown, no flush); resolves once the JVM is gone. */
  kill9(): Promise<void>;
  /** Start it again on the same ports and data; resolves once it answers a client. */
  start(): Promise<void>;
  /** Controlled shutdown (SIGTERM). */
  stop(): Promise<void>;
  /** The last lines it printed, to explain a failure. */
  output(): string[];
}

export interface LocalCluster {
  /** Bootstrap servers: every node. */
  brokers: string[];
  nodes: ClusterNode[];
  /** Kill every node that runs (its data is not meant to be reused); idempotent. */
  stop(): Promise<void>;
}

/**
 * Start `nodes` KRaft nodes on free ports of 127.0.0.1, all voters of one quorum
 * (a majority must run for the cluster to answer), wait until every node
 * answers, then create `topics`. Used by the cluster test stage (tests/cluster).
 */
export async function startLocalCluster(o: LocalClusterOptions, log: Logger, opts: StartBrokerOptions = {}): Promise<LocalCluster> {
  const classpath = opts.classpath ?? (await ensureKafkaInstalled(log));
  const ids = Array.from({ length: o.nodes }, (_, i) => i + 1);
  const ports = await Promise.all(ids.map(async (nodeId) => ({ nodeId, port: await freePort(), controllerPort: await freePort() })));
  const voters = ports.map(({ nodeId, controllerPort }) => ({ nodeId, controllerPort }));
  const clusterIdFile = path.join(o.dir, "cluster.id");
  await fs.mkdir(o.dir, { recursive: true });
  // Written once before the nodes format in parallel: each must format with the same id.
  await stableClusterId(clusterIdFile);

  const nodes = ports.map(({ nodeId, port, controllerPort }): ClusterNode & { running?: NodeProcess } => {
    const dir = path.join(o.dir, `node-${nodeId}`);
    const spec: KafkaNodeSpec = { nodeId, port, controllerPort, voters, logDir: path.join(dir, "logs"), partitions: o.partitions };
    const broker = `127.0.0.1:${port}`;
    const nodeOpts = { ...opts, lean: o.lean, onOutput: opts.onOutput ? (line: string) => opts.onOutput!(`[node ${nodeId}] ${line}`) : undefined };
    const node: ClusterNode & { running?: NodeProcess } = {
      nodeId,
      broker,
      port,
      controllerPort,
      pid: () => (node.running && !node.running.exitState() ? node.running.child.pid : undefined),
      async kill9() {
        const p = node.running;
        if (!p || p.exitState()) return;
        p.child.kill("SIGKILL");
        await p.exited;
      },
      async start() {
        if (node.pid() !== undefined) return;
        await fs.mkdir(dir, { recursive: true });
        node.running = await spawnNode(spec, dir, clusterIdFile, o.heap, classpath, log, nodeOpts);
        try {
          await waitUntilAnswering([broker], o.startTimeoutMs, log, node.running);
        } catch (err) {
          await node.running.stop();
          throw err;
        }
      },
      stop: async () => node.running?.stop(),
      output: () => [...(node.running?.lines ?? [])],
    };
    return node;
  });
  const cluster: LocalCluster = {
    brokers: nodes.map((n) => n.broker),
    nodes,
    // SIGKILL, not a controlled shutdown: the last nodes of a cluster stopping together wait
    // for a controller quorum that is already gone, and the test cluster's data is thrown away.
    stop: async () => void (await Promise.all(nodes.map((n) => n.kill9()))),
  };

  const started = Date.now();
  try {
    // Together: no node answers before a majority of the voters runs.
    await Promise.all(nodes.map((n) => n.start()));
    log.info({ brokers: cluster.brokers, durationMs: Date.now() - started, dir: o.dir }, "Kafka cluster ready");
    if (o.topics?.length) {
      const kafka = createKafka({ clientId: "embedline-cluster", brokers: cluster.brokers, log });
      await ensureTopics(kafka, o.topics, o.partitions, { ...o.replication, configs: o.compacted ? compactedTopic(o.compacted) : {} });
    }
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** Format KRaft storage the first time; afterwards the data (and cluster id) is reused. */
async function formatStorageOnce(classpath: string, dir: string, logDir: string, propsFile: string, clusterIdFile: string, log: Logger): Promise<void> {
  if (existsSync(path.join(logDir, "meta.properties"))) return;
  const clusterId = await stableClusterId(clusterIdFile);
  const res = await run(
    "java",
    [
      `-Dlog4j2.configurationFile=${log4jConfigPath}`,
      "-cp",
      classpath,
      "kafka.tools.StorageTool",
      "format",
      "--cluster-id",
      clusterId,
      "--config",
      propsFile,
      "--ignore-formatted",
    ],
    { cwd: dir },
  );
  if (res.code !== 0) {
    throw new StackError(`formatting Kafka storage in ${logDir} failed (exit ${res.code}): ${lastMeaningful(res.output)}`, tail(res.output, 20));
  }
  log.info({ logDir, clusterId }, "Kafka storage formatted");
}

/** The cluster id kept in `file` (`<dir>/cluster.id`), created once (Kafka's format: 16 random bytes, base64url); every node of a cluster shares it. */
async function stableClusterId(file: string): Promise<string> {
  const existing = await fs.readFile(file, "utf8").then(
    (s) => s.trim(),
    () => "",
  );
  if (/^[A-Za-z0-9_-]{22}$/.test(existing)) return existing;
  let id: string;
  do id = randomBytes(16).toString("base64url");
  while (id.startsWith("-")); // Kafka rejects ids that would read as a command-line flag
  await fs.writeFile(file, `${id}\n`);
  return id;
}

/** Probe with a one-shot admin call until the broker answers, it dies, or time runs out. */
async function waitUntilAnswering(brokers: string[], timeoutMs: number, log: Logger, node: Pick<NodeProcess, "exitState" | "exited" | "spawnFailed" | "lines">): Promise<void> {
  const { exitState, exited, spawnFailed, lines } = node;
  // Refused connections are expected while the JVM starts; keep them out of the log.
  const quiet = log.child({}, { level: "silent" });
  const deadline = Date.now() + timeoutMs;
  let lastProbeError = "";
  let failedToSpawn: Error | undefined;
  void spawnFailed.then((err) => (failedToSpawn = err));
  for (;;) {
    if (failedToSpawn) throw new StackError(`could not run java: ${failedToSpawn.message}: ${JAVA_HINT}`);
    const exit = exitState();
    if (exit) {
      const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
      throw new StackError(`Kafka broker exited during start-up (${how}): ${lastMeaningful(lines)}`, tail(lines, 20));
    }
    const kafka = createKafka({ clientId: "embedline-probe", brokers, log: quiet, connectionTimeoutMs: 1000, retries: 0 });
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      // Also wait for the group coordinator: on a fresh cluster the first group call
      // creates __consumer_offsets, and until it has loaded every consumer that joins
      // fails with "coordinator is loading" and restarts.
      await admin.describeGroups(["embedline-readiness-probe"]);
      return;
    } catch (err) {
      lastProbeError = oneLine(err);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (Date.now() >= deadline) {
      throw new StackError(
        `Kafka broker did not answer on ${brokers.join(",")} within ${Math.round(timeoutMs / 1000)} s (last probe: ${lastProbeError}); see its output below, or raise KAFKA_START_TIMEOUT_SEC on a slow machine`,
        tail(lines, 20),
      );
    }
    // Wake early if the JVM dies, so a failed start is reported at once.
    await settlesWithin(exited, PROBE_INTERVAL_MS);
  }
}

// ---------------------------------------------------------------- helpers

/** Resolve true if `p` settles within `ms`, false otherwise; the timer never outlives the call. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  const ac = new AbortController();
  try {
    return await Promise.race([p.then(() => true), delay(ms, false, { signal: ac.signal })]);
  } finally {
    ac.abort();
  }
}

/** The line most likely to say why a JVM failed: the last ERROR or exception line. */
function lastMeaningful(lines: string[]): string {
  const line = [...lines].reverse().find((l) => /ERROR|Exception|Error:/.test(l)) ?? lines.at(-1) ?? "no output";
  return line.length > 240 ? `${line.slice(0, 240)}…` : line;
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
}
