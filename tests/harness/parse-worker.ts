import kafkajs, { type Kafka } from "kafkajs";
import { freePort } from "./free-port";
import { createTopics } from "./kafka-topics";
import type { RunningCommand } from "./processes";
import { waitFor } from "./wait-for";
import { launchWorker } from "./workers";

export interface ParseWorkerSetup {
  brokers: string[];
  input: string;
  output: string;
  dlq: string;
  group: string;
  transactionalId: string;
}

export interface ParseWorkerProcess extends RunningCommand {
  metricsUrl: string;
}

/** The worker as the launcher runs it, on a port and topics of its own; resolves once /health says ok. */
export async function startParseWorker(s: ParseWorkerSetup, port?: number): Promise<ParseWorkerProcess> {
  const metricsPort = port ?? (await freePort());
  const proc = launchWorker("parse-worker", {
    env: {
      ...process.env,
      KAFKA_BOOTSTRAP_SERVERS: s.brokers.join(","),
      SPARK_KAFKA_TOPICS: s.input,
      SINK_INPUT_TOPIC: s.output,
      PARSE_DLQ_TOPIC: s.dlq,
      PARSE_GROUP: s.group,
      PARSE_TRANSACTIONAL_ID: s.transactionalId,
      PARSE_METRICS_PORT: String(metricsPort),
      LOG_LEVEL: "warn",
    },
  });
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  await waitFor(
    "the parse worker's /health to answer ok",
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`parse worker exited (${proc.child.exitCode}):\n${proc.output()}`);
      const res = await fetch(`${metricsUrl}/health`);
      return res.status === 200;
    },
    60_000,
  );
  return { ...proc, metricsUrl };
}

export async function workerMetrics(w: ParseWorkerProcess): Promise<Record<string, unknown>> {
  return (await (await fetch(`${w.metricsUrl}/metrics`)).json()) as Record<string, unknown>;
}

/**
 * Topics for a parse test with a `max.message.bytes` of their own (a small one
 * keeps hostile-record tests fast), kept forever like createTopics' topics.
 */
export async function createTopicsWithLimit(kafka: Kafka, topics: string[], partitions: number, maxMessageBytes: number): Promise<void> {
  await createTopics(kafka, topics, partitions, { "max.message.bytes": String(maxMessageBytes) });
}

/** Change a topic's `max.message.bytes` while workers run (AlterConfigs replaces the topic's settings: retention is set again with it). */
export async function setTopicLimit(kafka: Kafka, topic: string, maxMessageBytes: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configEntries: topicConfig(maxMessageBytes) }] });
  } finally {
    await admin.disconnect();
  }
}

const topicConfig = (maxMessageBytes: number) => [
  { name: "retention.ms", value: "-1" },
  { name: "max.message.bytes", value: String(maxMessageBytes) },
];

export interface ParseWorkerHealth {
  status: string;
  partitions: { topic: string; partition: number; offset: string; reason: string; since_ts: number }[];
}

export async function workerHealth(w: ParseWorkerProcess): Promise<{ httpStatus: number; body: ParseWorkerHealth }> {
  const res = await fetch(`${w.metricsUrl}/health`);
  return { httpStatus: res.status, body: (await res.json()) as ParseWorkerHealth };
}
