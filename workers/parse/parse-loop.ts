import { Partitioners, type Consumer, type EachBatchPayload, type Kafka, type Producer } from "kafkajs";
import type { ParseWorkerConfig } from "../../lib/config/parse";
import type { Logger } from "../../lib/log";
import type { ParseMetrics } from "./metrics";
import { chunkBySize, parseBatch } from "./parse-batch";

/**
 * Most bytes of records per produce request: under the broker's default
 * message.max.bytes (1 MiB) with room for the batch header.
 */
const PRODUCE_CHUNK_BYTES = 900_000;
/**
 * How soon a killed worker's partitions go to its successor. kafkajs has no
 * static membership, so the group waits out the dead member's session; 10 s
 * (kafkajs: 30 s) keeps a restart quick while a 1 s heartbeat keeps a slow
 * batch from looking dead.
 */
const SESSION_TIMEOUT_MS = 10_000;
const HEARTBEAT_INTERVAL_MS = 1_000;
/** Long-poll of a fetch: short enough that shutdown does not wait on it. */
const MAX_WAIT_MS = 500;

/** Errors after which this process must not go on: another worker holds its transactional id. */
const FATAL_ERROR_TYPES = new Set(["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH", "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", "INVALID_TXN_STATE"]);
const isFatal = (err: unknown) => FATAL_ERROR_TYPES.has((err as { type?: string }).type ?? "");

/** The offset to commit after `offset`: Kafka commits the next record to read. */
const next = (offset: string) => (BigInt(offset) + 1n).toString();

export interface ParseLoopHooks {
  /** The consumer joined its group and holds partitions (or none): the worker is up. */
  onJoined: () => void;
  /** KafkaJS gave up (CRASH without restart) or the producer was fenced. */
  onFatal: (err: Error) => void;
}

export interface ParseLoop {
  consumer: Consumer;
  producer: Producer;
  /** Stop fetching, let the batch in flight finish (its transaction commits or aborts), disconnect. */
  stop(): Promise<void>;
}

/**
 * Consume raw messages and, per batch, produce their embedding_input records,
 * their DLQ records and the batch's consumed offsets in one transaction: a
 * read_committed reader sees each output exactly once, whatever crashes.
 */
export async function startParseLoop(kafka: Kafka, cfg: ParseWorkerConfig, metrics: ParseMetrics, log: Logger, hooks: ParseLoopHooks): Promise<ParseLoop> {
  const producer = kafka.producer({
    transactionalId: cfg.transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const consumer = kafka.consumer({
    groupId: cfg.groupId,
    // Input written in transactions counts only once committed.
    readUncommitted: false,
    sessionTimeout: SESSION_TIMEOUT_MS,
    heartbeatInterval: HEARTBEAT_INTERVAL_MS,
    maxWaitTimeInMs: MAX_WAIT_MS,
    retry: { restartOnFailure: async (err) => !isFatal(err) },
  });

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    log.info({ groupId: payload.groupId, assigned: payload.memberAssignment }, "joined consumer group");
    hooks.onJoined();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    log.error({ err: { message: payload.error.message, type: (payload.error as { type?: string }).type }, restart: payload.restart }, "kafka consumer crashed");
    if (!payload.restart) hooks.onFatal(payload.error);
  });

  await producer.connect();
  // Fence a predecessor with our transactional id (a crashed or still-running
  // instance) before the group's committed offsets are read: kafkajs
  // initialises the transactional id only when a first transaction begins, and
  // until then a predecessor's transaction caught mid-commit could still land.
  await (await producer.transaction()).abort();
  await consumer.connect();
  await consumer.subscribe({ topics: cfg.inputTopics, fromBeginning: true });

  const handleBatch = async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
    if (!isRunning() || isStale() || batch.isEmpty()) return;
    const started = Date.now();
    const parsed = parseBatch(batch, cfg.maxTextBytes, started);
    const tx = await producer.transaction();
    try {
      for (const messages of chunkBySize(parsed.records, PRODUCE_CHUNK_BYTES)) await tx.send({ topic: cfg.outputTopic, messages });
      for (const messages of chunkBySize(parsed.dead, PRODUCE_CHUNK_BYTES)) await tx.send({ topic: cfg.dlqTopic, messages });
      await tx.sendOffsets({
        consumerGroupId: cfg.groupId,
        topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next(batch.lastOffset()) }] }],
      });
      await tx.commit();
    } catch (err) {
      metrics.transactionAborted();
      await tx.abort().catch((abortErr: Error) => log.warn({ err: { message: abortErr.message } }, "abort failed"));
      if (isFatal(err)) hooks.onFatal(err as Error);
      // kafkajs retries the batch with backoff; nothing of this attempt is visible to read_committed readers.
      throw err;
    }
    resolveOffset(batch.lastOffset());
    metrics.batchCommitted(batch.messages.length, parsed.records.length, parsed.deadByReason);
    log.debug(
      { topic: batch.topic, partition: batch.partition, offset: batch.firstOffset(), count: batch.messages.length, dlq: parsed.dead.length, durationMs: Date.now() - started },
      "batch parsed",
    );
    await heartbeat();
  };

  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: handleBatch });

  let stopping: Promise<void> | undefined;
  return {
    consumer,
    producer,
    stop: () =>
      (stopping ??= (async () => {
        await consumer.disconnect();
        await producer.disconnect();
      })()),
  };
}
