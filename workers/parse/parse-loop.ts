import { Partitioners, type Consumer, type EachBatchPayload, type Kafka, type Producer } from "kafkajs";
import type { ParseWorkerConfig } from "../../lib/config/parse";
import { chunkRecords, TopicLimits } from "../../lib/kafka/record-limits";
import type { Logger } from "../../lib/log";
import { BatchCommitter, type BatchContext, type Plan } from "./batch-committer";
import type { ParseHealth } from "./health";
import type { ParseMetrics } from "./metrics";

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

/** Errors after which this process must not go on: it is not allowed its transactional id. */
const isFatal = (err: unknown) => (err as { type?: string }).type === "TRANSACTIONAL_ID_AUTHORIZATION_FAILED";

export interface ParseLoopHooks {
  /** The consumer joined its group and holds partitions (or none): the worker is up. */
  onJoined: () => void;
  /** KafkaJS gave up (CRASH without restart). */
  onFatal: (err: Error) => void;
}

export interface ParseLoop {
  consumer: Consumer;
  /** Stop fetching, let the batch in flight finish (its transaction commits or aborts), disconnect. */
  stop(): Promise<void>;
}

/**
 * Consume raw messages and, per batch, produce their embedding_input records,
 * their DLQ records and the batch's consumed offsets in one transaction: a
 * read_committed reader sees each output exactly once, whatever crashes.
 * Every record is checked against its topic's `max.message.bytes` as the
 * broker reports it (TopicLimits), and produce requests are split under it;
 * BatchCommitter decides what a failed transaction means.
 */
export async function startParseLoop(kafka: Kafka, cfg: ParseWorkerConfig, metrics: ParseMetrics, health: ParseHealth, log: Logger, hooks: ParseLoopHooks): Promise<ParseLoop> {
  const makeProducer = () =>
    kafka.producer({
      transactionalId: cfg.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  let producer: Producer = makeProducer();
  /** Set after a failure that may leave the producer's transaction state unknown: the next commit starts a new one. */
  let suspect = false;
  const consumer = kafka.consumer({
    groupId: cfg.groupId,
    // Input written in transactions counts only once committed.
    readUncommitted: false,
    sessionTimeout: SESSION_TIMEOUT_MS,
    heartbeatInterval: HEARTBEAT_INTERVAL_MS,
    maxWaitTimeInMs: MAX_WAIT_MS,
    retry: { restartOnFailure: async (err) => !isFatal(err) },
  });
  const admin = kafka.admin();

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    log.info({ groupId: payload.groupId, assigned: payload.memberAssignment }, "joined consumer group");
    hooks.onJoined();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    log.error({ err: { message: payload.error.message, type: (payload.error as { type?: string }).type }, restart: payload.restart }, "kafka consumer crashed");
    if (!payload.restart) hooks.onFatal(payload.error);
  });

  /**
   * Fence a predecessor with our transactional id (a crashed or still-running
   * instance, or our own previous producer) before anything is read or
   * written: kafkajs initialises the transactional id only when a first
   * transaction begins, and until then a predecessor's transaction caught
   * mid-commit could still land.
   */
  const fence = async (p: Producer) => {
    await p.connect();
    await (await p.transaction()).abort();
  };

  async function commit(plan: Plan, ctx: BatchContext, nextOffset: string): Promise<void> {
    if (suspect) {
      await producer.disconnect().catch((err: Error) => log.warn({ err: { message: err.message } }, "old producer did not disconnect cleanly"));
      producer = makeProducer();
      await fence(producer);
      suspect = false;
      log.info({ transactionalId: cfg.transactionalId }, "started a new producer");
      // The transaction that failed may have committed after all: its commit reached the
      // coordinator, and the answer was lost with a broker that died (the cluster test
      // stage saw it write a batch twice). Fencing completed it either way, so the group's
      // offset is final now: a batch it already covers is done, not written again.
      const [entry] = await admin.fetchOffsets({ groupId: cfg.groupId, topics: [ctx.topic] });
      const committed = entry?.partitions.find((p) => p.partition === ctx.partition)?.offset;
      if (committed !== undefined && BigInt(committed) >= BigInt(nextOffset)) {
        log.warn({ topic: ctx.topic, partition: ctx.partition, committed, nextOffset }, "the failed transaction had committed; the batch is not written again");
        return;
      }
    }
    const tx = await producer.transaction();
    try {
      for (const messages of chunkRecords(plan.records, plan.outMax)) await tx.send({ topic: cfg.outputTopic, messages });
      for (const messages of chunkRecords(plan.dead, plan.dlqMax)) await tx.send({ topic: cfg.dlqTopic, messages });
      await tx.sendOffsets({ consumerGroupId: cfg.groupId, topics: [{ topic: ctx.topic, partitions: [{ partition: ctx.partition, offset: nextOffset }] }] });
      await tx.commit();
    } catch (err) {
      await tx.abort().catch((abortErr: Error) => {
        suspect = true;
        log.warn({ err: { message: abortErr.message } }, "abort failed");
      });
      throw err;
    }
  }

  const committer = new BatchCommitter({
    outputTopic: cfg.outputTopic,
    dlqTopic: cfg.dlqTopic,
    maxTextBytes: cfg.maxTextBytes,
    limits: new TopicLimits(admin),
    commit,
    producerSuspect: () => {
      suspect = true;
    },
    health,
    metrics,
    log,
  });

  /**
   * A fetch of only transaction markers or aborted records (transactional
   * input) never reaches eachBatch: kafkajs resolves past it and, with
   * autoCommit off, commits nothing, so the group would stay short of the end.
   * We commit past it in an offsets-only transaction. Safe for exactly-once:
   * kafkajs fetches from the offset resolved after our last commit (a batch
   * given up is fetched again from where it started), so nothing between the
   * committed offset and these markers is left unprocessed. One at a time, and
   * before the next batch (one producer, one transaction at a time).
   */
  let markerWork: Promise<void> = Promise.resolve();
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.batchSize !== 0 || payload.firstOffset === null) return;
    const { topic, partition, lastOffset } = payload;
    const ctx: BatchContext = { topic, partition, isRunning: () => true, isStale: () => false, heartbeat: async () => {} };
    markerWork = markerWork
      .then(() => commit({ records: [], dead: [], deadByReason: {}, outMax: 0, dlqMax: 0 }, ctx, (BigInt(lastOffset) + 1n).toString()))
      .then(
        () => log.debug({ topic, partition, lastOffset }, "committed past transaction markers"),
        (err: Error) => log.warn({ topic, partition, lastOffset, err: { message: err.message } }, "commit past transaction markers failed; the next batch commits past them"),
      );
  });

  const handleBatch = async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
    await markerWork;
    if (!isRunning() || isStale() || batch.isEmpty()) return;
    const started = Date.now();
    await committer.handle(batch, { topic: batch.topic, partition: batch.partition, isRunning, isStale, heartbeat }, resolveOffset);
    log.debug({ topic: batch.topic, partition: batch.partition, offset: batch.firstOffset(), count: batch.messages.length, durationMs: Date.now() - started }, "batch parsed");
    await heartbeat();
  };

  await admin.connect();
  await fence(producer);
  await consumer.connect();
  await consumer.subscribe({ topics: cfg.inputTopics, fromBeginning: true });
  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: handleBatch });

  let stopping: Promise<void> | undefined;
  return {
    consumer,
    stop: () =>
      (stopping ??= (async () => {
        await consumer.disconnect();
        await producer.disconnect();
        await admin.disconnect();
      })()),
  };
}
