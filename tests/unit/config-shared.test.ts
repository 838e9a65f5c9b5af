/**
 * The configuration every process shares (lib/config/shared.ts) comes out the
 * same from each process's parser: the brokers fallback, the embedding
 * service's URLs, log level and shutdown limit, topic creation.
 */
import { describe, expect, it } from "vitest";
import { parseConsoleConfig } from "@/lib/config/console";
import { parseEmbedWorkerConfig } from "@/lib/config/embed-worker";
import { parseEmbeddingClientConfig } from "@/lib/config/embedding-client";
import type { RawEnv } from "@/lib/config/env";
import { parseIndexerConfig } from "@/lib/config/indexer";
import { parseInfermeshConfig } from "@/lib/config/infermesh";
import { parseParseWorkerConfig, parseSparkJobConfig } from "@/lib/config/parse";
import { parseReddbServerConfig } from "@/lib/config/reddb";
import { parseStackConfig } from "@/lib/config/stack";

/** Each process's brokers, as its own parser reads them. */
const brokersOf: Record<string, (env: RawEnv) => string[]> = {
  launcher: (env) => parseStackConfig(env).kafka.brokers,
  "parse worker": (env) => parseParseWorkerConfig(env).brokers,
  "Spark job": (env) => parseSparkJobConfig(env).brokers,
  "embed-worker": (env) => parseEmbedWorkerConfig(env).kafka.brokers,
  "emb-indexer": (env) => parseIndexerConfig(env).kafka.brokers,
  console: (env) => parseConsoleConfig(env).kafkaBrokers,
};

const embeddingUrlsOf: Record<string, (env: RawEnv) => string[]> = {
  launcher: (env) => parseStackConfig(env).infermesh.urls,
  "embed-worker": (env) => parseEmbedWorkerConfig(env).embedding.urls,
  "embedding client": (env) => parseEmbeddingClientConfig(env).urls,
  console: (env) => parseConsoleConfig(env).infermeshUrls,
};

const basicsOf: Record<string, (env: RawEnv) => { logLevel: string; shutdownTimeoutMs: number }> = {
  launcher: parseStackConfig,
  "parse worker": parseParseWorkerConfig,
  "embed-worker": parseEmbedWorkerConfig,
  "emb-indexer": parseIndexerConfig,
  "embedding service": parseInfermeshConfig,
  "RedDB store": parseReddbServerConfig,
};

describe("the Kafka cluster", () => {
  it.each(Object.keys(brokersOf))("%s: the local broker on KAFKA_PORT when KAFKA_BOOTSTRAP_SERVERS is unset or empty", (name) => {
    expect(brokersOf[name]!({ KAFKA_PORT: "19999" })).toEqual(["127.0.0.1:19999"]);
    expect(brokersOf[name]!({ KAFKA_PORT: "19999", KAFKA_BOOTSTRAP_SERVERS: " " })).toEqual(["127.0.0.1:19999"]);
    expect(brokersOf[name]!({})).toEqual(["127.0.0.1:9092"]);
  });

  it.each(Object.keys(brokersOf))("%s: the operator's KAFKA_BOOTSTRAP_SERVERS, whatever KAFKA_PORT says", (name) => {
    expect(brokersOf[name]!({ KAFKA_PORT: "19999", KAFKA_BOOTSTRAP_SERVERS: "kafka-a:9092,kafka-b:9093" })).toEqual(["kafka-a:9092", "kafka-b:9093"]);
  });

  it("the Spark job's KAFKA_BOOTSTRAP (the seeds' name) wins over the stack's cluster", () => {
    expect(parseSparkJobConfig({ KAFKA_BOOTSTRAP: "spark-kafka:9092", KAFKA_BOOTSTRAP_SERVERS: "kafka-a:9092" }).brokers).toEqual(["spark-kafka:9092"]);
  });

  it("the launcher starts a broker only without KAFKA_BOOTSTRAP_SERVERS", () => {
    expect(parseStackConfig({}).kafka.external).toBe(false);
    expect(parseStackConfig({ KAFKA_BOOTSTRAP_SERVERS: "kafka-a:9092" }).kafka.external).toBe(true);
  });
});

describe("the embedding service", () => {
  it.each(Object.keys(embeddingUrlsOf))("%s: the bundled service on INFERMESH_PORT, or the operator's INFERMESH_URL list", (name) => {
    expect(embeddingUrlsOf[name]!({ INFERMESH_PORT: "19000" })).toEqual(["http://127.0.0.1:19000"]);
    expect(embeddingUrlsOf[name]!({ INFERMESH_PORT: "19000", INFERMESH_URL: "http://e1:9000,http://e2:9000" })).toEqual(["http://e1:9000", "http://e2:9000"]);
  });
});

describe("log level and shutdown limit", () => {
  it.each(Object.keys(basicsOf))("%s reads them the same way", (name) => {
    expect(basicsOf[name]!({ LOG_LEVEL: "debug", SHUTDOWN_TIMEOUT_SEC: "7" })).toMatchObject({ logLevel: "debug", shutdownTimeoutMs: 7000 });
  });
});

describe("topic creation", () => {
  const env = { EMBED_TOPIC_PARTITIONS: "5", KAFKA_REPLICATION_FACTOR: "3", KAFKA_MIN_INSYNC_REPLICAS: "2" };
  const replication = { replicationFactor: 3, minInsyncReplicas: 2 };

  it("every process that creates topics makes them alike", () => {
    expect(parseStackConfig(env).kafka).toMatchObject({ partitions: 5, replication });
    expect(parseParseWorkerConfig(env)).toMatchObject({ partitions: 5, replication });
    expect(parseEmbedWorkerConfig(env).kafka).toMatchObject({ partitions: 5, replication });
    expect(parseIndexerConfig(env).kafka).toMatchObject({ dlqPartitions: 5, replication });
  });
});
