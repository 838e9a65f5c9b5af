import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { StackConfig } from "../../lib/config/stack";
import { createKafka } from "../../lib/kafka/client";
import { ensureTopics } from "../../lib/kafka/topics";
import type { Logger } from "../../lib/log";
import { assertMaven, run, tail } from "../install/run";
import { assertPortFree } from "../launcher/ports";
import { StackError } from "../stack-error";

/**
 * The local single-node Kafka broker (KRaft, broker + controller in one JVM) that
 * `npm start` and the integration tests run when no external cluster is given.
 * Jars come from Maven (scripts/kafka/pom.xml); state lives under `kafka.dir`.
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

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../..");
const pomPath = path.join(here, "pom.xml");
const log4jConfigPath = path.join(here, "log4j2.xml");

const JAVA_HINT = "install it (Debian: apt-get install openjdk-17-jre-headless)";
/** Lines of JVM output kept to explain a failed start. */
const TAIL_LINES = 40;
/** A single-node KRaft broker stops in 1-3 s; beyond this something hangs. */
const DEFAULT_STOP_TIMEOUT_MS = 15_000;
/** Between readiness probes: a JVM start takes seconds, a probe ~1 ms when refused. */
const PROBE_INTERVAL_MS = 250;

// ---------------------------------------------------------------- install

/**
 * Make sure Java 17+ runs and the broker's jars are in the local Maven repository;
 * resolve to the broker's classpath. Maven runs only when scripts/kafka/pom.xml
 * changed since the cached classpath was written, or a jar it names is gone.
 */
export async function ensureKafkaInstalled(log: Logger, opts: { cacheDir?: string } = {}): Promise<string> {
  await assertJava17();
  const cacheDir = opts.cacheDir ?? path.join(repoRoot, "data", "kafka");
  const pom = await fs.readFile(pomPath);
  const key = createHash("sha256").update(pom).digest("hex").slice(0, 16);
  const cacheFile = path.join(cacheDir, `classpath-${key}.txt`);

  const cached = await readClasspath(cacheFile);
  if (cached) {
    log.debug({ cacheFile }, "Kafka classpath from cache");
    return cached;
  }

  await assertMaven("the Kafka jars");
  await fs.mkdir(cacheDir, { recursive: true });
  // Written beside the cache file and renamed into place, so a launcher and a test
  // run resolving at the same time never read half a file.
  const tmpFile = `${cacheFile}.${process.pid}.tmp`;
  const started = Date.now();
  log.info({ pom: path.relative(repoRoot, pomPath) }, "resolving the Kafka broker's jars with Maven (first start, or the pom changed)");
  const mvn = await run("mvn", [
    "-q",
    "-B",
    "-Dstyle.color=never",
    "-f",
    pomPath,
    "dependency:build-classpath",
    `-Dmdep.outputFile=${tmpFile}`,
    "-Dmdep.includeScope=runtime",
  ]);
  if (mvn.code !== 0) {
    await fs.rm(tmpFile, { force: true });
    throw new StackError(
      `Maven could not resolve the Kafka jars (exit ${mvn.code}): check network access to the Maven repository, then retry (\`mvn -B -f scripts/kafka/pom.xml dependency:build-classpath\` shows the details)`,
      tail(mvn.output, 20),
    );
  }
  await fs.rename(tmpFile, cacheFile);
  // Classpaths of earlier poms are dead weight now.
  for (const name of await fs.readdir(cacheDir)) {
    if (/^classpath-[0-9a-f]{16}\.txt$/.test(name) && path.join(cacheDir, name) !== cacheFile) await fs.rm(path.join(cacheDir, name), { force: true });
  }
  const classpath = await readClasspath(cacheFile);
  if (!classpath) throw new StackError(`Maven wrote an unusable classpath to ${cacheFile}: delete it and retry`);
  log.info({ durationMs: Date.now() - started, jars: classpath.split(path.delimiter).length }, "Kafka jars resolved");
  return classpath;
}

/** The cached classpath if the file exists and every jar it names is still there. */
async function readClasspath(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = (await fs.readFile(file, "utf8")).trim();
  } catch {
    return undefined;
  }
  const jars = text.split(path.delimiter).filter(Boolean);
  if (jars.length === 0 || !jars.some((j) => path.basename(j).startsWith("kafka_2.13-"))) return undefined;
  return jars.every((j) => existsSync(j)) ? jars.join(path.delimiter) : undefined;
}

async function assertJava17(): Promise<void> {
  const res = await run("java", ["-version"]).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") throw new StackError(`Java 17+ not found on PATH: ${JAVA_HINT}`);
    throw err;
  });
  // `openjdk version "17.0.15" 2025-04-15`, `java version "1.8.0_392"`
  const m = /version "(\d+)(?:\.(\d+))?/.exec(res.output.join("\n"));
  if (!m) throw new StackError(`could not read the Java version from \`java -version\`: ${JAVA_HINT}`, tail(res.output, 5));
  const major = m[1] === "1" ? Number(m[2]) : Number(m[1]);
  if (major < 17) throw new StackError(`Java ${major} found on PATH but Kafka 4 needs Java 17+: ${JAVA_HINT}`);
}

// ---------------------------------------------------------------- start

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
  const logDir = path.join(dir, "logs");
  await fs.mkdir(logDir, { recursive: true });
  const propsFile = path.join(dir, "server.properties");
  await fs.writeFile(propsFile, serverProperties(kafkaCfg, logDir));
  await formatStorageOnce(classpath, dir, logDir, propsFile, log);

  const brokers = [`127.0.0.1:${port}`];
  const started = Date.now();
  const child = spawn("java", [...jvmArgs(kafkaCfg.heap), "-cp", classpath, "kafka.Kafka", propsFile], {
    cwd: dir, // hs_err_pid*.log and the like land in the data dir, not the repo
    stdio: ["ignore", "pipe", "pipe"],
  });
  opts.onSpawn?.(child);

  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
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
    else log.info({ process: "kafka" }, line);
  };
  for (const stream of [child.stdout, child.stderr]) readline.createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);

  const stopTimeoutMs = opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (!exit) {
        child.kill("SIGTERM");
        if (!(await settlesWithin(exited, stopTimeoutMs))) {
          log.warn({ stopTimeoutMs }, "Kafka broker did not stop after SIGTERM; killing it");
          child.kill("SIGKILL");
          await exited;
        }
      }
      process.off("exit", killOnExit);
      log.info({ code: exit?.code, signal: exit?.signal }, "Kafka broker stopped");
    })());

  try {
    await waitUntilAnswering(brokers, kafkaCfg.startTimeoutMs, log, () => exit, exited, spawnFailed, lines);
  } catch (err) {
    await stop();
    throw err;
  }
  log.info({ brokers, version, durationMs: Date.now() - started, dir }, "Kafka broker ready");

  try {
    const kafka = createKafka({ clientId: "embedline-launcher", brokers, log });
    const created = await ensureTopics(kafka, kafkaCfg.topics, kafkaCfg.partitions, { replicationFactor: 1 });
    log.info({ created, topics: kafkaCfg.topics, partitions: kafkaCfg.partitions }, "Kafka topics ready");
  } catch (err) {
    await stop();
    throw new StackError(`Kafka broker started but the stack's topics could not be created: ${oneLine(err)}`, tail(lines, 20));
  }
  return { child, brokers, version, stop };
}

/**
 * server.properties of a single-node combined broker+controller listening on
 * 127.0.0.1 only. Rewritten at every start so a changed port or partition count
 * takes effect; the data under log.dirs is kept.
 */
function serverProperties(cfg: KafkaStackConfig, logDir: string): string {
  const p = (lines: string[]) => lines.join("\n");
  return (
    p([
      "# Written by scripts/kafka/broker.ts at every start; edits here are overwritten.",
      "process.roles=broker,controller",
      "node.id=1",
      // Static voters (not controller.quorum.bootstrap.servers + --standalone): the
      // voter's address is then read from this file, not from the metadata log, so
      // KAFKA_CONTROLLER_PORT can change between starts on the same data.
      `controller.quorum.voters=1@127.0.0.1:${cfg.controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${cfg.port},CONTROLLER://127.0.0.1:${cfg.controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${cfg.port}`,
      "controller.listener.names=CONTROLLER",
      "inter.broker.listener.name=PLAINTEXT",
      "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
      `log.dirs=${logDir}`,
      "",
      "# One node: every replication factor and min ISR is 1, or internal topics",
      "# (consumer offsets, transaction state) could never be created.",
      `num.partitions=${cfg.partitions}`,
      "default.replication.factor=1",
      "min.insync.replicas=1",
      "offsets.topic.replication.factor=1",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "share.coordinator.state.topic.replication.factor=1",
      "share.coordinator.state.topic.min.isr=1",
      "",
      "# Sized for a 2-core machine that also runs Spark, the model and the console.",
      "# Network threads: one per core is plenty for a handful of local clients (default 3).",
      "num.network.threads=2",
      "# Request handler threads: more than the cores only adds context switches (default 8).",
      "num.io.threads=2",
      "# Background tasks (log cleanup, deletion) are rare on a dev broker (default 10).",
      "background.threads=2",
      "# One data disk: parallel log recovery after a crash buys nothing (default 2).",
      "num.recovery.threads.per.data.dir=1",
      "# 50 partitions each (the default) means 100 logs and coordinator shards to load",
      "# at every start; 3 is enough for the few groups and transactional ids of one stack.",
      "offsets.topic.num.partitions=3",
      "transaction.state.log.num.partitions=3",
      "# Consumers join at once instead of after 3 s (default): one machine starts",
      "# workers one by one anyway, and tests do not wait on every group join.",
      "group.initial.rebalance.delay.ms=0",
      "# Retention deletes whole segments; 128 MiB segments (default 1 GiB) let a small",
      "# dev disk get space back long before each partition holds a gigabyte.",
      "log.segment.bytes=134217728",
    ]) + "\n"
  );
}

function jvmArgs(heap: string): string[] {
  return [
    `-Xmx${heap}`,
    `-Xms${heap}`,
    // Kafka's own defaults (kafka-run-class.sh): G1 with short pauses.
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:MaxInlineLevel=15",
    // An out-of-memory broker should die (the launcher sees it) rather than limp on.
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${log4jConfigPath}`,
  ];
}

/** Format KRaft storage the first time; afterwards the data (and cluster id) is reused. */
async function formatStorageOnce(classpath: string, dir: string, logDir: string, propsFile: string, log: Logger): Promise<void> {
  if (existsSync(path.join(logDir, "meta.properties"))) return;
  const clusterId = await stableClusterId(dir);
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

/** The cluster id kept in `<dir>/cluster.id`, created once (Kafka's format: 16 random bytes, base64url). */
async function stableClusterId(dir: string): Promise<string> {
  const file = path.join(dir, "cluster.id");
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
async function waitUntilAnswering(
  brokers: string[],
  timeoutMs: number,
  log: Logger,
  exitState: () => { code: number | null; signal: NodeJS.Signals | null } | undefined,
  exited: Promise<void>,
  spawnFailed: Promise<Error>,
  lines: string[],
): Promise<void> {
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
