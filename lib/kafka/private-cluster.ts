import type { Kafka } from "kafkajs";

/**
 * kafkajs' cluster, the part we use where its public API stops: a Fetch
 * outside a consumer group (partition-fetch.ts) and requests it has no admin
 * method for (log-dirs.ts). Its Kafka object builds clusters through a
 * private factory; tests/unit/lag-kafkajs-internals.test.ts fails if an
 * upgrade moves it.
 */

export interface KafkaRequest<T> {
  request: { apiKey: number; apiVersion: number; apiName: string; encode: () => Promise<unknown> };
  response: { decode: (raw: Buffer) => Promise<unknown>; parse: (decoded: unknown) => Promise<T> };
}
export interface ClusterBroker {
  fetch(req: { replicaId: number; isolationLevel: number; maxWaitTime: number; minBytes: number; maxBytes: number; topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[] }): Promise<{ responses: { topicName: string; partitions: unknown[] }[] }>;
  connectionPool: { send<T>(req: KafkaRequest<T>): Promise<T> };
}
export interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(q: { nodeId: string }): Promise<ClusterBroker>;
  brokerPool: { metadata?: { brokers: { nodeId: number }[] } };
}

export const READ_COMMITTED = 1;

/**
 * Who uses a cluster: each has its own broker connections, so a request's
 * long read (a topic export, a DLQ download) never queues ahead of a poller's
 * small fetches (a broker answers one request per connection at a time):
 * `poll` for the console's pollers (lag counts, DLQ counts, Spark progress),
 * `request` for what a user asked for.
 */
export type FetchPurpose = "poll" | "request";

const clusters = new WeakMap<Kafka, Map<FetchPurpose, Promise<Cluster>>>();

/** The read_committed cluster of `kafka` for `purpose`, connected on first use. */
export function kafkaCluster(kafka: Kafka, purpose: FetchPurpose): Promise<Cluster> {
  let byPurpose = clusters.get(kafka);
  if (!byPurpose) clusters.set(kafka, (byPurpose = new Map()));
  const known = byPurpose.get(purpose);
  if (known) return known;
  const factory = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster");
  if (!factory) throw new Error("kafkajs without its cluster factory (lib/kafka/private-cluster.ts expects kafkajs 2.2.x)");
  const make = (kafka as unknown as Record<symbol, (o: object) => Cluster>)[factory]!;
  const made = (async () => {
    const cluster = make({ allowAutoTopicCreation: false, isolationLevel: READ_COMMITTED });
    await cluster.connect();
    return cluster;
  })();
  made.catch(() => byPurpose.delete(purpose));
  byPurpose.set(purpose, made);
  return made;
}

/** Forget a purpose's cluster (after a failure, so the next use reconnects; or at shutdown). */
export async function closeKafkaCluster(kafka: Kafka, purpose: FetchPurpose): Promise<void> {
  const byPurpose = clusters.get(kafka);
  const c = byPurpose?.get(purpose);
  byPurpose?.delete(purpose);
  await c?.then((cl) => cl.disconnect()).catch(() => {});
}
