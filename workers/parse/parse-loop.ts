import { Partitioners, type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage, type Producer } from "kafkajs";
import type { ParseWorkerConfig } from "../../lib/config/parse";
import { chunkRecords, TopicLimits } from "../../lib/kafka/record-limits";
import type { Logger } from "../../lib/log";
import { classifyFailure, errorLine, type FailureKind } from "./failures";
import type { ParseHealth } from "./health";
import type { ParseMetrics } from "./metrics";
import { deadLetter, parseBatch, type ParsedBatch } from "./parse-batch";

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
/**
 * Tries of a whole batch that fails for an unclassified reason before it is
 * isolated record by record; then tries of one record before it is
 * dead-lettered as `unprocessable`. Small: parsing is deterministic, so an
 * unexplained failure that repeats three times will repeat again.
 */
export const MAX_BATCH_ATTEMPTS = 3;
export const MAX_RECORD_ATTEMPTS = 3;
/** Refusals for size after the limit was re-read; past this the refusal counts as unclassified (the broker disagrees with our size bound). */
const MAX_TOO_LARGE_REDOS = 3;
/** Wait between tries: 250 ms doubling to 10 s, so a broker outage is waited out without a busy loop and shutdown still answers within ~250 ms. */
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 10_000;
const PAUSE_SLICE_MS = 250;

/** Errors after which this process must not go on: it is not allowed its transactional id. */
const isFatal = (err: unknown) => (err as { type?: string }).type === "TRANSACTIONAL_ID_AUTHORIZATION_FAILED";

/** The offset to commit after `offset`: Kafka commits the next record to read. */
const next = (offset: string) => (BigInt(offset) + 1n).toString();

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

interface Plan extends ParsedBatch {
  outMax: number;
  dlqMax: number;
}

interface BatchContext {
  topic: string;
  partition: number;
  isRunning: () => boolean;
  isStale: () => boolean;
  heartbeat: () => Promise<void>;
}

type Outcome = { outcome: "committed" } | { outcome: "stopped" } | { outcome: "gave_up"; error: unknown; attempts: number };

const REASONS: Record<FailureKind, string> = {
  too_large: "the broker refused output as too large; re-reading max.message.bytes",
  rebalance: "rebalance",
  producer: "producer fenced or its transaction state lost; starting a new producer",
  transient: "Kafka unavailable; waiting",
  dlq_too_small: "the DLQ topic's max.message.bytes is too small for a DLQ record; waiting for it to be raised",
  unknown: "transaction failed for an unclassified reason; retrying",
};

/**
 * Consume raw messages and, per batch, produce their embedding_input records,
 * their DLQ records and the batch's consumed offsets in one transaction: a
 * read_committed reader sees each output exactly once, whatever crashes.
 *
 * No record stops a partition: what cannot be written (over the output
 * topic's max.message.bytes as read from the broker) is dead-lettered as
 * `too_large`; a batch that keeps failing for an unclassified reason is
 * retried MAX_BATCH_ATTEMPTS times, then committed record by record, and a
 * record that still fails MAX_RECORD_ATTEMPTS times is dead-lettered as
 * `unprocessable`. Transient causes are waited out. While a partition is not
 * advancing, `health` lists it with its offset and reason.
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
  /** Set after a failure that may leave the producer's transaction state unknown: the next try starts a new one. */
  let renewProducer = false;
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
  const limits = new TopicLimits(admin);

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    log.info({ groupId: payload.groupId, assigned: payload.memberAssignment }, "joined consumer group");
    hooks.onJoined();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    log.error({ err: { message: payload.error.message, type: (payload.error as { type?: string }).type }, restart: payload.restart }, "kafka consumer crashed");
    if (!payload.restart) hooks.onFatal(payload.error);
  });

  /** Fence a predecessor with our transactional id: kafkajs initialises it only when a first transaction begins. */
  const fence = async (p: Producer) => {
    await p.connect();
    await (await p.transaction()).abort();
  };

  async function renew(): Promise<void> {
    const old = producer;
    await old.disconnect().catch((err: Error) => log.warn({ err: { message: err.message } }, "old producer did not disconnect cleanly"));
    producer = makeProducer();
    await fence(producer);
  }

  async function commit(plan: Plan, ctx: BatchContext, nextOffset: string): Promise<void> {
    const tx = await producer.transaction();
    try {
      for (const messages of chunkRecords(plan.records, plan.outMax)) await tx.send({ topic: cfg.outputTopic, messages });
      for (const messages of chunkRecords(plan.dead, plan.dlqMax)) await tx.send({ topic: cfg.dlqTopic, messages });
      await tx.sendOffsets({ consumerGroupId: cfg.groupId, topics: [{ topic: ctx.topic, partitions: [{ partition: ctx.partition, offset: nextOffset }] }] });
      await tx.commit();
    } catch (err) {
      await tx.abort().catch((abortErr: Error) => {
        renewProducer = true;
        log.warn({ err: { message: abortErr.message } }, "abort failed");
      });
      throw err;
    }
  }

  /** Wait `ms`, heartbeating, and return early when the partition is no longer ours to work on. A rebalance error ends the batch. */
  async function pause(ms: number, ctx: BatchContext): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && ctx.isRunning() && !ctx.isStale()) {
      await new Promise((r) => setTimeout(r, Math.min(PAUSE_SLICE_MS, until - Date.now())));
      try {
        await ctx.heartbeat();
      } catch (err) {
        if (classifyFailure(err) === "rebalance") throw err;
      }
    }
  }

  /**
   * Plan `messages` with the current limits and commit them with the offset
   * after `lastOffset`, trying again as the failure's kind says. `gave_up`
   * after `maxUnknown` unclassified failures; `stopped` when the partition is
   * no longer ours or the consumer stops; a rebalance error is thrown.
   */
  async function untilCommitted(ctx: BatchContext, messages: KafkaMessage[], lastOffset: string, build: (outMax: number, dlqMax: number) => ParsedBatch, maxUnknown: number): Promise<Outcome> {
    let failures = 0;
    let unknown = 0;
    let tooLarge = 0;
    for (;;) {
      if (!ctx.isRunning() || ctx.isStale()) return { outcome: "stopped" };
      try {
        if (renewProducer) {
          await renew();
          renewProducer = false;
        }
        const [outMax, dlqMax] = await Promise.all([limits.maxMessageBytes(cfg.outputTopic), limits.maxMessageBytes(cfg.dlqTopic)]);
        const plan = { ...build(outMax, dlqMax), outMax, dlqMax };
        await commit(plan, ctx, next(lastOffset));
        metrics.batchCommitted(messages.length, plan.records.length, plan.deadByReason);
        return { outcome: "committed" };
      } catch (err) {
        let kind = classifyFailure(err);
        if (kind === "rebalance") throw err;
        failures += 1;
        metrics.transactionAborted();
        if (kind === "too_large") {
          limits.invalidate(cfg.outputTopic);
          limits.invalidate(cfg.dlqTopic);
          if (++tooLarge > MAX_TOO_LARGE_REDOS) kind = "unknown";
        }
        if (kind === "dlq_too_small") limits.invalidate(cfg.dlqTopic);
        // Anything but an outage may leave the producer mid-transaction or with a stale epoch.
        if (kind !== "transient" && kind !== "dlq_too_small") renewProducer = true;
        if (kind === "unknown") unknown += 1;
        const reason = kind === "unknown" ? `${REASONS.unknown} (${unknown}/${maxUnknown}): ${errorLine(err)}` : `${REASONS[kind]}: ${errorLine(err)}`;
        health.stall(ctx.topic, ctx.partition, messages[0]!.offset, reason);
        log.warn({ topic: ctx.topic, partition: ctx.partition, offset: messages[0]!.offset, count: messages.length, kind, failures, err: { message: errorLine(err), type: (err as { type?: string }).type } }, "parse transaction failed");
        if (unknown >= maxUnknown) return { outcome: "gave_up", error: err, attempts: unknown };
        // The first redo after a size refusal needs no wait: the limit was just re-read.
        const wait = kind === "too_large" && tooLarge === 1 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(failures - 1, 10));
        await pause(wait, ctx);
      }
    }
  }

  const handleBatch = async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
    if (!isRunning() || isStale() || batch.isEmpty()) return;
    const ctx: BatchContext = { topic: batch.topic, partition: batch.partition, isRunning, isStale, heartbeat };
    const started = Date.now();
    const limitsFor = (outMax: number, dlqMax: number) => ({ maxTextBytes: cfg.maxTextBytes, outputMaxMessageBytes: outMax, dlqMaxMessageBytes: dlqMax, outputTopic: cfg.outputTopic });
    try {
      const whole = await untilCommitted(ctx, batch.messages, batch.lastOffset(), (o, d) => parseBatch(batch, limitsFor(o, d), Date.now()), MAX_BATCH_ATTEMPTS);
      if (whole.outcome === "stopped") return;
      if (whole.outcome === "committed") {
        resolveOffset(batch.lastOffset());
      } else {
        log.warn({ topic: batch.topic, partition: batch.partition, offset: batch.firstOffset(), count: batch.messages.length, err: { message: errorLine(whole.error) } }, "batch keeps failing; committing it record by record");
        for (const message of batch.messages) {
          const one = { topic: batch.topic, partition: batch.partition, messages: [message] };
          const alone = await untilCommitted(ctx, [message], message.offset, (o, d) => parseBatch(one, limitsFor(o, d), Date.now()), MAX_RECORD_ATTEMPTS);
          if (alone.outcome === "stopped") return;
          if (alone.outcome === "gave_up") {
            const attempts = MAX_BATCH_ATTEMPTS + alone.attempts;
            const error = `kept failing after ${attempts} attempts: ${errorLine(alone.error)}`;
            // The dead letter itself is retried without limit: a DLQ that cannot be written is an outage, and /health says so.
            const dead = await untilCommitted(
              ctx,
              [message],
              message.offset,
              (_o, d) => ({ records: [], dead: [deadLetter(batch, message, { reason: "unprocessable", error }, d, Date.now(), attempts)], deadByReason: { unprocessable: 1 } }),
              Number.POSITIVE_INFINITY,
            );
            if (dead.outcome !== "committed") return;
            log.error({ topic: batch.topic, partition: batch.partition, offset: message.offset, attempts, err: { message: errorLine(alone.error) } }, "record dead-lettered as unprocessable");
          }
          resolveOffset(message.offset);
        }
      }
      log.debug({ topic: batch.topic, partition: batch.partition, offset: batch.firstOffset(), count: batch.messages.length, durationMs: Date.now() - started }, "batch parsed");
      await heartbeat();
    } finally {
      // Committed, given back (stop, rebalance) or handed to a restart: this loop no longer holds the partition back.
      health.advance(batch.topic, batch.partition);
    }
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
