/**
 * Starts the Spark parse job (`npm start -- --spark`): validates its
 * configuration, makes sure the virtualenv and the Kafka connector are there,
 * creates the topics it writes, then runs spark/job.py and stays its parent —
 * SIGTERM/SIGINT stop the job gracefully (queries stop, the checkpoint stays
 * consistent), and past SHUTDOWN_TIMEOUT_SEC it is killed.
 *
 * The launcher runs it built (process "spark", scripts/launcher/worker-build.ts):
 *   node --conditions=react-server .build/workers/spark.mjs
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { inheritedEnv, loadOrExit } from "../lib/config/load";
import { parseSparkJobConfig, type SparkJobConfig } from "../lib/config/parse";
import { createKafka } from "../lib/kafka/client";
import { TopicLimits } from "../lib/kafka/record-limits";
import { ensureTopics } from "../lib/kafka/topics";
import { createLogger } from "../lib/log";
import { ensureSparkInstalled, sparkDir } from "../scripts/install/spark";
import { assertPortFree } from "../scripts/launcher/ports";
import { StackError } from "../scripts/stack-error";

const cfg = loadOrExit(parseSparkJobConfig);
const log = createLogger("spark-job", cfg.logLevel);

/** spark/job.py's command line: everything it needs, nothing read from the environment on its side. */
function jobArguments(c: SparkJobConfig, limits: { sink: number; dlq: number }): string[] {
  const args = [
    ["--bootstrap", c.brokers.join(",")],
    ["--topics", c.inputTopics.join(",")],
    ["--sink-topic", c.outputTopic],
    ["--dlq-topic", c.dlqTopic],
    ["--progress-topic", c.progressTopic],
    ["--max-text-bytes", String(c.maxTextBytes)],
    ["--sink-max-message-bytes", String(limits.sink)],
    ["--dlq-max-message-bytes", String(limits.dlq)],
    ["--checkpoint-dir", c.checkpointDir],
    ["--master", c.master],
    ["--ui-port", String(c.uiPort)],
    ["--driver-memory", c.driverMemory],
    ["--trigger-sec", String(c.triggerSec)],
    ["--max-offsets-per-trigger", String(c.maxOffsetsPerTrigger)],
    ["--log-level", c.logLevel],
  ];
  if (c.parquetDir !== undefined) args.push(["--parquet-dir", c.parquetDir]);
  return args.flat();
}

/**
 * The sink and DLQ topics' `max.message.bytes` as the broker reports them:
 * pyspark has no admin client, so the job gets them as arguments and checks
 * every record it writes against them (too_large to the DLQ). Read at each
 * start: a limit lowered while the job runs makes the broker refuse a record,
 * the query fails, the job exits, and the launcher's restart reads the new one.
 */
async function topicLimits(kafka: ReturnType<typeof createKafka>): Promise<{ sink: number; dlq: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const limits = new TopicLimits(admin);
    return { sink: await limits.maxMessageBytes(cfg.outputTopic), dlq: await limits.maxMessageBytes(cfg.dlqTopic) };
  } finally {
    await admin.disconnect();
  }
}

async function main(): Promise<number> {
  await assertPortFree(cfg.uiPort, "the Spark UI", "SPARK_UI_PORT");
  const { python } = await ensureSparkInstalled(log);
  const kafka = createKafka({ clientId: "spark-job-setup", brokers: cfg.brokers, log });
  // The Kafka sink writes to whichever topic a row names; they must exist first.
  await ensureTopics(kafka, [...cfg.inputTopics, cfg.outputTopic, cfg.dlqTopic], cfg.partitions, cfg.replication);
  // One partition: progress events stay in order and "the newest" is one read.
  await ensureTopics(kafka, [cfg.progressTopic], 1, cfg.replication);
  await fs.mkdir(cfg.checkpointDir, { recursive: true });
  const limits = await topicLimits(kafka);
  log.info({ sink: cfg.outputTopic, sinkMaxMessageBytes: limits.sink, dlq: cfg.dlqTopic, dlqMaxMessageBytes: limits.dlq }, "output topics' max.message.bytes");

  const child = spawn(python, [path.join(sparkDir, "job.py"), ...jobArguments(cfg, limits)], {
    cwd: sparkDir,
    env: { ...inheritedEnv(), SPARK_LOCAL_IP: cfg.localIp, PYTHONUNBUFFERED: "1" },
    stdio: ["ignore", "inherit", "inherit"],
    // A group of its own: a signal sent to our group (Ctrl-C, `timeout`, kill -- -PGID)
    // must not reach the JVM directly — its shutdown hook would pull the SparkContext
    // from under the graceful stop. We forward signals; job.py stops by itself
    // if this process disappears.
    detached: true,
  });
  const exited = new Promise<number>((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1))));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping the Spark job");
    child.kill("SIGTERM");
    // Leave the launcher's own deadline a moment to see us exit cleanly.
    setTimeout(() => {
      log.error({ timeoutMs: cfg.shutdownTimeoutMs }, "Spark job did not stop in time; killing it");
      child.kill("SIGKILL");
    }, Math.max(1000, cfg.shutdownTimeoutMs - 1000)).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  const code = await exited;
  return stopping && code !== 1 ? 0 : code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof StackError) {
      process.stderr.write(`embedline: ${err.message}\n${err.hint ? `${err.hint}\n` : ""}`);
    } else {
      log.fatal({ err: { message: err instanceof Error ? err.message : String(err) } }, "spark job failed to start");
    }
    process.exit(1);
  },
);
