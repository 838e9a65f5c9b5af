import path from "node:path";
import { parseEnv, type RawEnv } from "./env";
import { parseKafkaCluster, parseProcessBasics, parseTopicCreation } from "./shared";

/** Variables both parse implementations read. */
const COMMON = [
  "DATA_DIR",
  "SPARK_KAFKA_TOPICS",
  "SINK_INPUT_TOPIC",
  "PARSE_DLQ_TOPIC",
  "PARSE_MAX_TEXT_BYTES",
] as const;

function common(env: RawEnv) {
  const e = parseEnv(COMMON, env);
  const dataDir = path.resolve(e.DATA_DIR);
  return {
    dataDir,
    ...parseProcessBasics(env),
    /** The stack's cluster: an operator's, or the local broker `npm start` runs. */
    brokers: parseKafkaCluster(env).brokers,
    /** Partitions and replication of topics this process has to create (the DLQ, the progress topic). */
    ...parseTopicCreation(env),
    inputTopics: e.SPARK_KAFKA_TOPICS,
    outputTopic: e.SINK_INPUT_TOPIC,
    dlqTopic: e.PARSE_DLQ_TOPIC,
    maxTextBytes: e.PARSE_MAX_TEXT_BYTES,
  };
}

/** Configuration of the TypeScript parse worker (workers/parse). */
export function parseParseWorkerConfig(env: RawEnv) {
  const e = parseEnv(["PARSE_GROUP", "PARSE_TRANSACTIONAL_ID", "PARSE_HOST", "PARSE_METRICS_PORT"], env);
  return {
    ...common(env),
    groupId: e.PARSE_GROUP,
    transactionalId: e.PARSE_TRANSACTIONAL_ID,
    metricsHost: e.PARSE_HOST,
    metricsPort: e.PARSE_METRICS_PORT,
  };
}

export type ParseWorkerConfig = ReturnType<typeof parseParseWorkerConfig>;

/** Configuration of the Spark parse job (spark/run.ts hands it to spark/job.py). */
export function parseSparkJobConfig(env: RawEnv) {
  const base = common(env);
  const e = parseEnv(
    [
      "KAFKA_BOOTSTRAP",
      "VEC_OUTPUT_DIR",
      "SPARK_UI_PORT",
      "SPARK_LOCAL_IP",
      "SPARK_MASTER",
      "SPARK_DRIVER_MEMORY",
      "SPARK_TRIGGER_SEC",
      "SPARK_MAX_OFFSETS_PER_TRIGGER",
      "SPARK_PROGRESS_TOPIC",
    ],
    env,
  );
  return {
    ...base,
    /** The seeds' name for the job's cluster; the stack's cluster when unset. */
    brokers: e.KAFKA_BOOTSTRAP ?? base.brokers,
    checkpointDir: path.join(base.dataDir, "spark", "checkpoints"),
    parquetDir: e.VEC_OUTPUT_DIR === undefined ? undefined : path.resolve(e.VEC_OUTPUT_DIR),
    uiPort: e.SPARK_UI_PORT,
    localIp: e.SPARK_LOCAL_IP,
    master: e.SPARK_MASTER,
    driverMemory: e.SPARK_DRIVER_MEMORY,
    triggerSec: e.SPARK_TRIGGER_SEC,
    maxOffsetsPerTrigger: e.SPARK_MAX_OFFSETS_PER_TRIGGER,
    progressTopic: e.SPARK_PROGRESS_TOPIC,
  };
}

export type SparkJobConfig = ReturnType<typeof parseSparkJobConfig>;
