import type { z } from "zod";
import * as t from "./types";

/**
 * Every environment variable Embedline reads, declared once. Names and defaults
 * of the seeds' variables are kept as the seeds have them; the README's
 * configuration table is generated from this list (scripts/config-table.ts) and
 * a unit test fails when the two drift apart.
 *
 * `default` is the raw string a variable takes when unset, so the README shows
 * exactly what an operator would type. Variables without a default are optional
 * and parse to `undefined` when unset.
 */
export interface Variable<S extends z.ZodType = z.ZodType> {
  schema: S;
  default?: string;
  doc: string;
  /** Never logged, never shown by /config, never sent to a browser. */
  secret?: boolean;
  group: Group;
}

export type Group = "Stack" | "Kafka" | "Embedding service" | "Batching" | "Sinks" | "RedDB" | "Index" | "Console";

const v = <D extends Variable>(def: D) => def;

export const variables = {
  // ---- Stack: how the launcher lays processes out on this machine
  DATA_DIR: v({ group: "Stack", schema: t.str(), default: "./data", doc: "Root of all local state: Kafka logs, Parquet, index, Spark checkpoints. Delete it to reset the stack." }),
  LOG_LEVEL: v({ group: "Stack", schema: t.logLevel(), default: "info", doc: "pino log level for every process." }),
  SHUTDOWN_TIMEOUT_SEC: v({ group: "Stack", schema: t.seconds(1), default: "15", doc: "How long a process may take to stop after SIGTERM before it is killed." }),

  // ---- Kafka
  KAFKA_BOOTSTRAP_SERVERS: v({ group: "Kafka", schema: t.hostPortList(), doc: "Kafka bootstrap servers (embed-worker, console, workers). When unset, `npm start` runs a local KRaft broker on 127.0.0.1:KAFKA_PORT and uses it; when set, no broker is started." }),
  KAFKA_BOOTSTRAP: v({ group: "Kafka", schema: t.hostPortList(), doc: "Bootstrap servers for the Spark job (seed name). Defaults to KAFKA_BOOTSTRAP_SERVERS." }),
  KAFKA_PORT: v({ group: "Kafka", schema: t.port(), default: "9092", doc: "Port of the local broker that `npm start` runs (client listener on 127.0.0.1)." }),
  KAFKA_CONTROLLER_PORT: v({ group: "Kafka", schema: t.port(), default: "9093", doc: "KRaft controller port of the local broker." }),
  KAFKA_HEAP: v({ group: "Kafka", schema: t.heapSize(), default: "512m", doc: "Max JVM heap of the local broker; 512m leaves room for Spark and the model on a 2-core, small-memory machine." }),
  KAFKA_START_TIMEOUT_SEC: v({ group: "Kafka", schema: t.seconds(1), default: "90", doc: "How long the launcher waits for the local broker to answer before giving up." }),
  SPARK_KAFKA_TOPICS: v({ group: "Kafka", schema: t.csv(), default: "agent.results", doc: "Topics the parse stage reads raw messages from." }),
  SINK_INPUT_TOPIC: v({ group: "Kafka", schema: t.str(), default: "embedding_input", doc: "Topic the parse stage writes `embedding_input` records to." }),
  EMBED_INPUT_TOPIC: v({ group: "Kafka", schema: t.str(), default: "embedding_input", doc: "Topic the embed-worker consumes." }),
  EMBED_OUTPUT_TOPIC: v({ group: "Kafka", schema: t.str(), default: "embeddings", doc: "Topic the embed-worker writes embedding records to." }),
  EMBED_DLQ_TOPIC: v({ group: "Kafka", schema: t.str(), default: "embeddings_dlq", doc: "Dead-letter topic for records that cannot be embedded." }),
  EMBED_GROUP: v({ group: "Kafka", schema: t.str(), default: "embed-worker", doc: "Consumer group of the embed-worker." }),
  EMBED_TOPIC_PARTITIONS: v({ group: "Kafka", schema: t.int(1, 1024), default: "3", doc: "Partitions of the topics the launcher creates." }),

  // ---- Embedding service
  INFERMESH_URL: v({ group: "Embedding service", schema: t.url(), default: "http://127.0.0.1:9000", doc: "Base URL of the InferMesh-compatible embedding service." }),
  EMBED_MODEL: v({ group: "Embedding service", schema: t.str(), default: "use-lite", doc: "Model id or short name sent with every embed request." }),
  INFERMESH_API_KEY: v({ group: "Embedding service", schema: t.str(), secret: true, doc: "Bearer token for the embedding service (optional)." }),
  INFERMESH_TIMEOUT_SEC: v({ group: "Embedding service", schema: t.seconds(0.1), default: "30", doc: "Timeout of one embed call." }),
  INFERMESH_RETRIES: v({ group: "Embedding service", schema: t.int(0, 20), default: "2", doc: "Retries of a retryable embed failure (connection error, timeout, 429, 5xx)." }),
  INFERMESH_BACKOFF_SEC: v({ group: "Embedding service", schema: t.seconds(0), default: "0.5", doc: "First retry delay; doubles each retry, with jitter." }),

  // ---- Batching
  EMBED_BATCH_SIZE: v({ group: "Batching", schema: t.int(1, 4096), default: "64", doc: "A batch closes at this many records…" }),
  EMBED_MAX_WAIT_SEC: v({ group: "Batching", schema: t.seconds(0), default: "0.5", doc: "…or this long after its first record, whichever comes first." }),
  EMBED_NORMALIZE: v({ group: "Batching", schema: t.flag(), default: "0", doc: "1 emits unit-length vectors and records `normalized=true`." }),
  EMBED_CACHE_WARMUP: v({ group: "Batching", schema: t.int(0), default: "0", doc: "Preload the N newest (text, vector) pairs from the Parquet sink into the cache at start." }),

  // ---- Sinks
  EMBED_WRITE_PARQUET: v({ group: "Sinks", schema: t.flag(), default: "1", doc: "Write embedding records to Parquet." }),
  EMBED_PARQUET_DIR: v({ group: "Sinks", schema: t.str(), default: "./data/vectorized/embeddings_imesh", doc: "Directory of the embedding Parquet files." }),
  VEC_OUTPUT_DIR: v({ group: "Sinks", schema: t.str(), doc: "Directory of the parse stage's optional Parquet output (read by the console's vectorizer panel). Unset: disabled." }),
  EMBED_METRICS_PORT: v({ group: "Sinks", schema: t.port(), default: "9100", doc: "Port of the embed-worker's /health, /metrics and control endpoints." }),

  // ---- RedDB
  REDDB_URL: v({ group: "RedDB", schema: t.url(), doc: "Base URL of a RedDB-compatible store. Unset: the RedDB sink and mirror are off." }),
  REDDB_NAMESPACE: v({ group: "RedDB", schema: t.str(), default: "embedline", doc: "Namespace for streams and keys." }),
  REDDB_TOKEN: v({ group: "RedDB", schema: t.str(), secret: true, doc: "Bearer token for RedDB (optional)." }),
  REDDB_STREAM: v({ group: "RedDB", schema: t.str(), default: "embeddings", doc: "Stream the embed-worker appends embedding records to." }),
  REDDB_MODE: v({ group: "RedDB", schema: t.oneOf(["stream", "kv", "both"] as const), default: "both", doc: "Write to the stream, to KV `embedding:{doc_id}`, or both." }),
  REDDB_DLQ_STREAM: v({ group: "RedDB", schema: t.str(), default: "embeddings_dlq", doc: "Stream DLQ records are appended to." }),
  REDDB_INDEX_STREAM: v({ group: "RedDB", schema: t.str(), default: "emb_index", doc: "Stream the indexer mirrors index records to." }),
  REDDB_DLQ_HTTP_PATH: v({ group: "RedDB", schema: t.str(), default: "/api/streams/{ns}/{stream}/tail?limit={limit}", doc: "Path the console reads the DLQ from when REDDB_URL is set; `{ns}`, `{stream}`, `{limit}` are filled URL-encoded." }),

  // ---- Index
  EMB_INDEX_SHARDS: v({ group: "Index", schema: t.int(1, 4096), default: "32", doc: "Number of index shards; shard = sha256(doc_id) mod this." }),
  EMB_SHARD_MAX_IDS: v({ group: "Index", schema: t.int(0), default: "5000", doc: "Newest ids kept per shard (0 = unlimited)." }),

  // ---- Console
  CONSOLE_PORT: v({ group: "Console", schema: t.port(), default: "3000", doc: "Port of the operator console." }),
  EMBED_WORKER_METRICS_URL: v({ group: "Console", schema: t.url(), default: "http://127.0.0.1:9100", doc: "Base URL of the embed-worker's metrics endpoints." }),
  SPARK_VECTOR_UI_URL: v({ group: "Console", schema: t.url(), default: "http://localhost:4041/api/v1", doc: "Spark REST API of the parse job." }),
  HEALTH_TIMEOUT_MS: v({ group: "Console", schema: t.int(50, 60000), default: "1500", doc: "Per-component deadline of `GET /api/health`." }),
} satisfies Record<string, Variable>;

export type VariableName = keyof typeof variables;
