/** Writing test input to Kafka the way the pipeline's producers do: idempotent, and transactions committed or aborted. */
import { Partitioners, type Kafka } from "kafkajs";
import { chunkRecords } from "../../lib/kafka/record-limits";
import { unique } from "./unique";
import { waitFor } from "./wait-for";

/** Bytes per produce request of the tests' input (kafkajs does not split a batch by size). */
const PRODUCE_CHUNK_BYTES = 900 * 1024;

export async function produce(
  kafka: Kafka,
  topic: string,
  values: (string | Buffer | null)[],
  keyOf?: (i: number) => string,
  headersOf?: (i: number) => Record<string, string> | undefined,
): Promise<void> {
  // Idempotent: a retried send must not duplicate input that exactly-once checks count.
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const messages = values.map((value, i) => ({ key: keyOf?.(i) ?? `k${i}`, value, headers: headersOf?.(i) }));
    // At most 500 per request, and batches under the broker's default limit: a
    // message near the input topic's limit goes on its own.
    for (let i = 0; i < messages.length; i += 500) {
      for (const chunk of chunkRecords(messages.slice(i, i + 500), PRODUCE_CHUNK_BYTES)) await producer.send({ topic, acks: -1, messages: chunk });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * Write `values` to one partition in one transaction, committed or aborted,
 * as the parse stage writes embedding_input; resolves once the transaction's
 * marker is in the log (the coordinator writes it after answering).
 */
export async function produceTransaction(kafka: Kafka, topic: string, partition: number, values: string[], outcome: "commit" | "abort"): Promise<void> {
  const admin = kafka.admin();
  const producer = kafka.producer({ transactionalId: unique("input-tx"), idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await Promise.all([admin.connect(), producer.connect()]);
  try {
    const end = async () => BigInt((await admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition)!.high);
    const expected = (await end()) + BigInt(values.length) + 1n;
    const tx = await producer.transaction();
    await tx.send({ topic, messages: values.map((value, i) => ({ partition, key: `tx${i}`, value })) });
    await (outcome === "commit" ? tx.commit() : tx.abort());
    await waitFor(`the ${outcome} marker on ${topic}/${partition}`, async () => (await end()) === expected);
  } finally {
    await Promise.all([admin.disconnect(), producer.disconnect()]);
  }
}
