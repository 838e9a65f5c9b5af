import { createRequire } from "node:module";
import type { Kafka } from "kafkajs";
import { closeKafkaCluster, kafkaCluster, type FetchPurpose, type KafkaRequest } from "./private-cluster";

/**
 * Bytes on disk per topic partition, as each broker reports it
 * (DescribeLogDirs, the API behind kafka-log-dirs.sh). kafkajs' admin has no
 * method for it; the request is small, so we encode version 1 ourselves with
 * kafkajs' own Encoder/Decoder and send it over its cluster's connections
 * (version 0 is gone from Kafka 4; 1 is the oldest every broker since 2.0 takes).
 */

interface Encoder {
  writeInt32(v: number): Encoder;
  writeString(v: string): Encoder;
  writeArray(a: unknown[], type?: "int32" | "object"): Encoder;
}
interface Decoder {
  readInt16(): number;
  readInt32(): number;
  readInt64(): bigint;
  readString(): string;
  readBoolean(): boolean;
  readArray<T>(read: (d: Decoder) => T): T[];
}
const requireKafkajs = createRequire(import.meta.url);
const EncoderClass = requireKafkajs("kafkajs/src/protocol/encoder") as new () => Encoder;
const DecoderClass = requireKafkajs("kafkajs/src/protocol/decoder") as new (raw: Buffer) => Decoder;
const DESCRIBE_LOG_DIRS = 35;

export interface ReplicaSize {
  topic: string;
  partition: number;
  broker: number;
  bytes: number;
  /** A replica being moved to another log dir (its future copy): not counted in a topic's size. */
  future: boolean;
}

interface LogDir {
  errorCode: number;
  topics: { name: string; partitions: { partition: number; size: bigint; future: boolean }[] }[];
}

function describeLogDirs(topics: { topic: string; partitions: number[] }[]): KafkaRequest<LogDir[]> {
  return {
    request: {
      apiKey: DESCRIBE_LOG_DIRS,
      apiVersion: 1,
      apiName: "DescribeLogDirs",
      encode: async () => new EncoderClass().writeArray(topics.map((t) => new EncoderClass().writeString(t.topic).writeArray(t.partitions, "int32")), "object"),
    },
    response: {
      decode: async (raw) => {
        const d = new DecoderClass(raw);
        d.readInt32(); // throttle_time_ms
        return d.readArray((r) => ({
          errorCode: r.readInt16(),
          logDir: r.readString(),
          topics: r.readArray((t) => ({
            name: t.readString(),
            partitions: t.readArray((p) => ({ partition: p.readInt32(), size: p.readInt64(), lag: p.readInt64(), future: p.readBoolean() })),
          })),
        }));
      },
      parse: async (decoded) => decoded as LogDir[],
    },
  };
}

/**
 * The size of every replica of these partitions on every broker. A broker
 * that does not answer, or a log dir it reports failed (a storage error), is
 * left out: its replicas are then missing from the answer, never zero.
 */
export async function replicaSizes(kafka: Kafka, topics: { topic: string; partitions: number[] }[], purpose: FetchPurpose = "request"): Promise<ReplicaSize[]> {
  if (topics.length === 0) return [];
  let cluster;
  try {
    cluster = await kafkaCluster(kafka, purpose);
    for (const t of topics) await cluster.addTargetTopic(t.topic);
    await cluster.refreshMetadataIfNecessary();
  } catch (err) {
    await closeKafkaCluster(kafka, purpose);
    throw err;
  }
  const nodes = cluster.brokerPool.metadata?.brokers.map((b) => b.nodeId) ?? [];
  const answers = await Promise.all(
    nodes.map(async (nodeId) => {
      try {
        const broker = await cluster.findBroker({ nodeId: String(nodeId) });
        return { nodeId, dirs: await broker.connectionPool.send(describeLogDirs(topics)) };
      } catch {
        return { nodeId, dirs: [] as LogDir[] };
      }
    }),
  );
  return answers.flatMap(({ nodeId, dirs }) =>
    dirs
      .filter((d) => d.errorCode === 0)
      .flatMap((d) => d.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition, broker: nodeId, bytes: Number(p.size), future: p.future })))),
  );
}
