import path from "node:path";
import { modelCacheDir } from "../embedding/model-cache";
import { parseEnv, type RawEnv } from "./env";
import { indexDir } from "./paths";
import { parseEmbeddingServiceUrls, parseKafkaCluster, parseProcessBasics, parseTopicCreation } from "./shared";

/** Configuration of the launcher (`npm start`) and of the test harness that reuses it. */
export function parseStackConfig(env: RawEnv) {
  const e = parseEnv(
    [
      "DATA_DIR",
      "LAUNCHER_CRASH_LOOP_RESTARTS",
      "LAUNCHER_CRASH_LOOP_WINDOW_SEC",
      "KAFKA_CONTROLLER_PORT",
      "KAFKA_HEAP",
      "KAFKA_START_TIMEOUT_SEC",
      "SPARK_KAFKA_TOPICS",
      "SINK_INPUT_TOPIC",
      "EMBED_INPUT_TOPIC",
      "EMBED_OUTPUT_TOPIC",
      "EMBED_DLQ_TOPIC",
      "CONSOLE_PORT",
      "CONSOLE_TOKEN",
      "INFERMESH_MODEL",
      "MODEL_CACHE_DIR",
      "INDEXER_PORT",
      "INDEX_DIR",
      "EMBED_METRICS_PORT",
      "REDDB_PORT",
      "REDDB_URL",
      "PARSE_METRICS_PORT",
      "PARSE_DLQ_TOPIC",
      "SPARK_UI_PORT",
      "SPARK_PROGRESS_TOPIC",
    ],
    env,
  );
  const dataDir = path.resolve(e.DATA_DIR);
  const cluster = parseKafkaCluster(env);
  const topics = parseTopicCreation(env);
  const embedders = parseEmbeddingServiceUrls(env);
  return {
    dataDir,
    ...parseProcessBasics(env),
    supervision: {
      /** Restarts allowed within the window; one more unexpected exit there stops the stack. */
      crashLoopRestarts: e.LAUNCHER_CRASH_LOOP_RESTARTS,
      crashLoopWindowMs: e.LAUNCHER_CRASH_LOOP_WINDOW_SEC * 1000,
      /** Where the launcher publishes each process's state for the console (LAUNCHER_STATE_FILE in children). */
      stateFile: path.join(dataDir, "launcher", "state.json"),
    },
    kafka: {
      /** An operator-supplied cluster: the launcher starts no broker. */
      external: cluster.external,
      brokers: cluster.brokers,
      port: cluster.port,
      controllerPort: e.KAFKA_CONTROLLER_PORT,
      heap: e.KAFKA_HEAP,
      startTimeoutMs: e.KAFKA_START_TIMEOUT_SEC * 1000,
      dir: path.join(dataDir, "kafka"),
      partitions: topics.partitions,
      /** KAFKA_REPLICATION_FACTOR / KAFKA_MIN_INSYNC_REPLICAS of the topics the launcher creates. */
      replication: topics.replication,
      /** Created compacted (lib/kafka/topics.ts compactedTopic): indexers rebuild from it. */
      outputTopic: e.EMBED_OUTPUT_TOPIC,
      topics: [
        ...new Set([...e.SPARK_KAFKA_TOPICS, e.PARSE_DLQ_TOPIC, e.SINK_INPUT_TOPIC, e.EMBED_INPUT_TOPIC, e.EMBED_OUTPUT_TOPIC, e.EMBED_DLQ_TOPIC]),
      ],
    },
    /** `login`: CONSOLE_TOKEN is set (the launcher says so; the token itself stays with the console). */
    console: { port: e.CONSOLE_PORT, login: e.CONSOLE_TOKEN !== undefined },
    /** `dir`: the first indexer's index; `npm start -- --indexers N` gives instance i ≥ 1 `<dir>-<i>`. */
    indexer: { port: e.INDEXER_PORT, dir: indexDir(dataDir, e.INDEX_DIR) },
    embedWorker: { port: e.EMBED_METRICS_PORT },
    parse: { port: e.PARSE_METRICS_PORT },
    spark: { uiPort: e.SPARK_UI_PORT },
    reddb: {
      /** An operator-supplied store: `--reddb` does not start the bundled one. */
      external: e.REDDB_URL !== undefined,
      url: e.REDDB_URL ?? `http://127.0.0.1:${e.REDDB_PORT}`,
      port: e.REDDB_PORT,
    },
    infermesh: {
      /** An operator-supplied embedding service: the bundled one is not started. */
      external: embedders.external,
      /** Every instance: the operator's INFERMESH_URL list, or the bundled services (one per `--embedders`, on consecutive ports from INFERMESH_PORT; see withScale). */
      urls: embedders.urls,
      port: embedders.port,
      /** The model the bundled service loads: the launcher installs its files first. */
      model: e.INFERMESH_MODEL,
    },
    /** Where the bundled models' files are extracted (MODEL_CACHE_DIR, or ~/.cache/embedline/models). */
    modelCacheDir: modelCacheDir(e.MODEL_CACHE_DIR),
    /** Instances the launcher starts of the scalable processes: 1 each, unless `--embedders N` / `--indexers N` (withScale). */
    scale: { embedders: 1, indexers: 1 },
  };
}

export type StackConfig = ReturnType<typeof parseStackConfig>;

/** The launcher's instance counts applied: the bundled services' URLs follow `--embedders` (an operator's INFERMESH_URL stays as given). */
export function withScale(cfg: StackConfig, scale: StackConfig["scale"]): StackConfig {
  const urls = cfg.infermesh.external ? cfg.infermesh.urls : Array.from({ length: scale.embedders }, (_, i) => `http://127.0.0.1:${cfg.infermesh.port + i}`);
  return { ...cfg, scale, infermesh: { ...cfg.infermesh, urls } };
}
