import type { Admin, IHeaders, Kafka, KafkaMessage, Producer } from "kafkajs";
import { REPLAY_HEADER } from "../../lib/dlq/item";
import { ensureTopics, type TopicReplication } from "../../lib/kafka/topics";
import { isTooLarge } from "../../lib/kafka/errors";
import { chunkRecords, payloadBudget, TopicLimits } from "../../lib/kafka/record-limits";
import { dlqKey, serializeDlqWithOriginal } from "../../lib/records/dlq-original";
import type { DlqReason, DlqRecord } from "../../lib/records/dlq-record";
import { kafkaTimestampToSeconds } from "../../lib/records/kafka-timestamp";
import type { PartialRecord } from "./decode";

/** One record of the embeddings topic the index stage gives up on. */
export interface DeadLetter {
  partition: number;
  message: KafkaMessage;
  reason: DlqReason;
  /** One line; no text, no secrets. */
  error: string;
  attempts: number;
  partial: PartialRecord;
}

/**
 * The index stage's dead letters, produced to EMBED_DLQ_TOPIC (the contract's
 * index → embeddings_dlq, `stage: "index"`, source topic = the embeddings
 * topic) with the original message, fitted to the DLQ topic's
 * `max.message.bytes` as the broker reports it. The producer is idempotent with
 * acks=all and `send` resolves only once the broker has them: the caller moves
 * its offset afterwards, so a crash in between can only write a dead letter twice.
 */
export class DeadLetters {
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly limits: TopicLimits;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly sourceTopic: string,
    /** Partitions of the DLQ topic if the indexer is the first to need it (EMBED_TOPIC_PARTITIONS). */
    private readonly partitions: number,
    /** KAFKA_REPLICATION_FACTOR / KAFKA_MIN_INSYNC_REPLICAS, if the indexer creates the DLQ topic. */
    private readonly replication: TopicReplication = {},
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.admin = kafka.admin();
    this.limits = new TopicLimits(this.admin);
  }

  async connect(): Promise<void> {
    // The embed-worker creates it too; whichever starts first, the same partition count.
    await ensureTopics(this.kafka, [this.topic], this.partitions, this.replication);
    await this.producer.connect();
    await this.admin.connect();
  }

  /** Write every dead letter; throws (nothing to undo) when Kafka did not take them all — the caller retries. */
  async send(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const max = await this.limits.maxMessageBytes(this.topic);
    const now = Date.now() / 1000;
    const messages = letters.map((l) => {
      const key = dlqKey(l.message.key);
      const record: DlqRecord = {
        text: l.partial.text,
        topic: l.partial.topic,
        kafka_ts: l.partial.kafka_ts,
        doc_id: l.partial.doc_id,
        reason: l.reason,
        error: l.error.replace(/[\r\n]+/g, " "),
        attempts: l.attempts,
        ts: now,
        model: l.partial.model,
        source: { topic: this.sourceTopic, partition: l.partition, offset: l.message.offset, timestamp: kafkaTimestampToSeconds(l.message.timestamp) },
        stage: "index",
      };
      // A redriven record that fails again keeps its replay count (the console's replay limit).
      const replay = l.message.headers?.[REPLAY_HEADER];
      const headers: IHeaders = replay === undefined ? {} : { [REPLAY_HEADER]: replay };
      const budget = payloadBudget(max) - (key === null ? 0 : Buffer.byteLength(key)) - (replay === undefined ? 0 : 64);
      return { key, value: serializeDlqWithOriginal(record, l.message, budget), headers };
    });
    try {
      for (const chunk of chunkRecords(messages, max)) await this.producer.send({ topic: this.topic, acks: -1, messages: chunk });
    } catch (err) {
      // The limit may have been lowered since it was read: read it again next time.
      if (isTooLarge(err)) this.limits.invalidate(this.topic);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
    await this.admin.disconnect();
  }
}
