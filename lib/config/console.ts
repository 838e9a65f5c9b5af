import "server-only";
import path from "node:path";
import { parseEnv, type RawEnv } from "./env";
import { loadOrExit } from "./load";
import { embedParquetDir } from "./paths";
import { parseEmbeddingServiceUrls, parseKafkaCluster } from "./shared";

/** Configuration of the Next.js console's server side. Never sent to the browser. */
export function parseConsoleConfig(env: RawEnv) {
  const e = parseEnv(
    [
      "LOG_LEVEL", "HEALTH_TIMEOUT_MS",
      "EMBED_WORKER_METRICS_URL", "SPARK_VECTOR_UI_URL", "CONSOLE_TOKEN", "INDEXER_URL", "PARSE_METRICS_URL",
      "CONSOLE_UPSTREAM_TIMEOUT_MS", "SSE_KEEPALIVE_SEC", "SSE_HISTORY", "DLQ_REDRIVE_MAX_REPLAYS",
      "EMBED_DLQ_TOPIC", "PARSE_DLQ_TOPIC", "EMBED_INPUT_TOPIC", "EMBED_OUTPUT_TOPIC", "SPARK_KAFKA_TOPICS", "SPARK_PROGRESS_TOPIC",
      "DATA_DIR", "EMBED_PARQUET_DIR", "VEC_OUTPUT_DIR", "EMBED_CONTROL_TOKEN",
      "REDDB_URL", "REDDB_NAMESPACE", "REDDB_TOKEN", "REDDB_DLQ_STREAM", "REDDB_DLQ_HTTP_PATH",
      "LAUNCHER_STATE_FILE", "CONSOLE_PORT", "CONSOLE_ALLOWED_HOSTS", "CONSOLE_TRUST_PROXY", "CONSOLE_SESSION_TTL",
      "CONSOLE_SSE_MAX_PER_CLIENT", "CONSOLE_SSE_MAX_TOTAL", "CONSOLE_HISTORY_HOURS",
      "INDEXER_GROUP", "KNN_SCATTER_TIMEOUT_MS",
    ],
    env,
  );
  return {
    logLevel: e.LOG_LEVEL,
    kafkaBrokers: parseKafkaCluster(env).brokers,
    healthTimeoutMs: e.HEALTH_TIMEOUT_MS,
    /** Every instance of the embedding service (INFERMESH_URL is a comma-separated list). */
    infermeshUrls: parseEmbeddingServiceUrls(env).urls,
    embedWorkerUrl: e.EMBED_WORKER_METRICS_URL,
    embedControlToken: e.EMBED_CONTROL_TOKEN,
    sparkUrl: e.SPARK_VECTOR_UI_URL,
    sparkProgressTopic: e.SPARK_PROGRESS_TOPIC,
    indexerUrl: e.INDEXER_URL,
    /** The indexers' consumer group: its members advertise where they answer (lib/kafka/indexer-group.ts); the console asks each. */
    indexerGroup: e.INDEXER_GROUP,
    /** Deadline of each indexer's part of a kNN query. */
    knnScatterTimeoutMs: e.KNN_SCATTER_TIMEOUT_MS,
    parseMetricsUrl: e.PARSE_METRICS_URL,
    upstreamTimeoutMs: e.CONSOLE_UPSTREAM_TIMEOUT_MS,
    /** Secret: compared on the server only, never rendered. */
    consoleToken: e.CONSOLE_TOKEN,
    /** Who may reach the console and how its sessions behave (lib/auth). */
    access: {
      port: e.CONSOLE_PORT,
      allowedHosts: e.CONSOLE_ALLOWED_HOSTS,
      trustProxy: e.CONSOLE_TRUST_PROXY,
      sessionTtlSec: e.CONSOLE_SESSION_TTL,
      /** Revoked sessions (logout) are kept here so a console restart does not bring them back. */
      stateDir: path.join(e.DATA_DIR, "console"),
    },
    /** History of the SSE streams (lib/history): window, and where it is persisted. */
    history: { windowMs: e.CONSOLE_HISTORY_HOURS * 3_600_000, dir: path.join(e.DATA_DIR, "console", "history") },
    sse: { keepAliveMs: e.SSE_KEEPALIVE_SEC * 1000, history: e.SSE_HISTORY, maxPerClient: e.CONSOLE_SSE_MAX_PER_CLIENT, maxTotal: e.CONSOLE_SSE_MAX_TOTAL },
    topics: {
      ingest: e.SPARK_KAFKA_TOPICS[0] ?? "agent.results",
      embedInput: e.EMBED_INPUT_TOPIC,
      embeddings: e.EMBED_OUTPUT_TOPIC,
      dlq: e.EMBED_DLQ_TOPIC,
      /** The parse stage's DLQ: the console reads both. */
      parseDlq: e.PARSE_DLQ_TOPIC,
    },
    maxReplays: e.DLQ_REDRIVE_MAX_REPLAYS,
    /** Set by `npm start` for its children; unset when the console runs on its own (docker-compose). */
    launcherStateFile: e.LAUNCHER_STATE_FILE,
    parquet: { embedDir: embedParquetDir(e.DATA_DIR, e.EMBED_PARQUET_DIR), vectorizerDir: e.VEC_OUTPUT_DIR },
    reddb: e.REDDB_URL
      ? { url: e.REDDB_URL, namespace: e.REDDB_NAMESPACE, token: e.REDDB_TOKEN, dlqStream: e.REDDB_DLQ_STREAM, dlqPath: e.REDDB_DLQ_HTTP_PATH }
      : undefined,
  };
}

export type ConsoleConfig = ReturnType<typeof parseConsoleConfig>;

let cached: ConsoleConfig | undefined;

/** Parsed once per server process (first call, from instrumentation.ts at boot). */
export function consoleConfig(): ConsoleConfig {
  cached ??= loadOrExit(parseConsoleConfig);
  return cached;
}
