import type { KafkaMessage } from "kafkajs";
import { rebalanceCause } from "../../lib/kafka/errors";
import type { TopicLimits } from "../../lib/kafka/record-limits";
import type { Logger } from "../../lib/log";
import { classifyFailure, errorLine, type FailureKind } from "./failures";
import type { ParseHealth } from "./health";
import type { ParseMetrics } from "./metrics";
import { deadLetter, parseBatch, type IncomingBatch, type ParsedBatch } from "./parse-batch";

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
/** Wait between tries: 250 ms doubling to 10 s, so a broker outage is waited out without a busy loop, and shutdown still answers within ~250 ms. */
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 10_000;
const PAUSE_SLICE_MS = 250;

/** What one transaction writes: the plan of some messages under the limits it was made with. */
export interface Plan extends ParsedBatch {
  outMax: number;
  dlqMax: number;
}

/** The partition being worked on, and kafkajs' hooks to stay its owner. */
export interface BatchContext {
  topic: string;
  partition: number;
  isRunning: () => boolean;
  isStale: () => boolean;
  heartbeat: () => Promise<void>;
}

export interface CommitterDeps {
  outputTopic: string;
  dlqTopic: string;
  maxTextBytes: number;
  limits: Pick<TopicLimits, "maxMessageBytes" | "invalidate">;
  /** One transaction: the plan's records and dead letters, and `nextOffset` as the group's committed offset. */
  commit: (plan: Plan, ctx: BatchContext, nextOffset: string) => Promise<void>;
  /** The producer may be mid-transaction or hold a stale epoch: the next commit starts with a new one. */
  producerSuspect: () => void;
  health: ParseHealth;
  metrics: ParseMetrics;
  log: Logger;
  /** First wait between tries (doubling to 10 s); 0 in unit tests. */
  backoffFirstMs?: number;
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

/** The offset to commit after `offset`: Kafka commits the next record to read. */
const next = (offset: string) => (BigInt(offset) + 1n).toString();

/**
 * Gets one batch of a partition committed whatever its records hold. What
 * cannot be written is dead-lettered when the batch is planned (parseBatch:
 * bad input, too_large); failures of the transaction itself are classified:
 * a size refusal re-reads the limits and plans again, transient causes are
 * waited out without limit, a rebalance gives the batch back; an unclassified
 * failure is tried MAX_BATCH_ATTEMPTS times, then the batch is committed
 * record by record, and a record that still fails MAX_RECORD_ATTEMPTS times
 * is dead-lettered as `unprocessable`. While it is not advancing, the
 * partition is listed in `health` with its offset and the reason.
 */
export class BatchCommitter {
  private readonly backoffFirstMs: number;

  constructor(private readonly deps: CommitterDeps) {
    this.backoffFirstMs = deps.backoffFirstMs ?? BACKOFF_FIRST_MS;
  }

  /** Resolves when the batch is committed (`resolveOffset` called up to its last offset) or given up to a stop or rebalance (then it may have committed a prefix). */
  async handle(batch: IncomingBatch & { lastOffset: () => string }, ctx: BatchContext, resolveOffset: (offset: string) => void): Promise<void> {
    const { deps } = this;
    const plan = (messages: KafkaMessage[]) => (outMax: number, dlqMax: number) =>
      parseBatch({ topic: batch.topic, partition: batch.partition, messages }, { maxTextBytes: deps.maxTextBytes, outputMaxMessageBytes: outMax, dlqMaxMessageBytes: dlqMax, outputTopic: deps.outputTopic }, Date.now());
    try {
      const whole = await this.untilCommitted(ctx, batch.messages, batch.lastOffset(), plan(batch.messages), MAX_BATCH_ATTEMPTS);
      if (whole.outcome === "committed") return resolveOffset(batch.lastOffset());
      if (whole.outcome === "stopped") return;
      deps.log.warn({ topic: batch.topic, partition: batch.partition, offset: batch.messages[0]?.offset, count: batch.messages.length, err: { message: errorLine(whole.error) } }, "batch keeps failing; committing it record by record");
      for (const message of batch.messages) {
        const alone = await this.untilCommitted(ctx, [message], message.offset, plan([message]), MAX_RECORD_ATTEMPTS);
        if (alone.outcome === "stopped") return;
        if (alone.outcome === "gave_up") {
          const attempts = MAX_BATCH_ATTEMPTS + alone.attempts;
          const error = `kept failing after ${attempts} attempts: ${errorLine(alone.error)}`;
          // The dead letter itself is tried without limit: a DLQ that cannot be written is an outage, and /health says so.
          const dead = await this.untilCommitted(
            ctx,
            [message],
            message.offset,
            (_outMax, dlqMax) => ({ records: [], dead: [deadLetter(batch, message, { reason: "unprocessable", error }, dlqMax, Date.now(), attempts)], deadByReason: { unprocessable: 1 } }),
            Number.POSITIVE_INFINITY,
          );
          if (dead.outcome !== "committed") return;
          deps.log.error({ topic: batch.topic, partition: batch.partition, offset: message.offset, attempts, err: { message: errorLine(alone.error) } }, "record dead-lettered as unprocessable");
        }
        resolveOffset(message.offset);
      }
    } finally {
      // Committed, or given back (stop, rebalance): this batch no longer holds the partition back.
      deps.health.advance(batch.topic, batch.partition);
    }
  }

  /**
   * Plan `messages` with the current limits and commit them with the offset
   * after `lastOffset`, trying again as the failure's kind says. `gave_up`
   * after `maxUnknown` unclassified failures; `stopped` when the partition is
   * no longer ours or the consumer stops; a rebalance error is thrown.
   */
  private async untilCommitted(ctx: BatchContext, messages: KafkaMessage[], lastOffset: string, build: (outMax: number, dlqMax: number) => ParsedBatch, maxUnknown: number): Promise<Outcome> {
    const { deps } = this;
    let failures = 0;
    let unknown = 0;
    let tooLarge = 0;
    for (;;) {
      if (!ctx.isRunning() || ctx.isStale()) return { outcome: "stopped" };
      try {
        const [outMax, dlqMax] = await Promise.all([deps.limits.maxMessageBytes(deps.outputTopic), deps.limits.maxMessageBytes(deps.dlqTopic)]);
        const plan = { ...build(outMax, dlqMax), outMax, dlqMax };
        await deps.commit(plan, ctx, next(lastOffset));
        deps.metrics.batchCommitted(messages.length, plan.records.length, plan.deadByReason, messages.map((m) => m.timestamp));
        return { outcome: "committed" };
      } catch (err) {
        let kind = classifyFailure(err);
        if (kind === "rebalance") throw rebalanceCause(err);
        failures += 1;
        deps.metrics.transactionAborted();
        if (kind === "too_large") {
          deps.limits.invalidate(deps.outputTopic);
          deps.limits.invalidate(deps.dlqTopic);
          if (++tooLarge > MAX_TOO_LARGE_REDOS) kind = "unknown";
        }
        if (kind === "dlq_too_small") deps.limits.invalidate(deps.dlqTopic);
        // Anything but an outage may leave the producer mid-transaction or with a stale epoch.
        if (kind !== "transient" && kind !== "dlq_too_small") deps.producerSuspect();
        if (kind === "unknown") unknown += 1;
        const reason = kind === "unknown" ? `${REASONS.unknown} (${unknown}/${maxUnknown}): ${errorLine(err)}` : `${REASONS[kind]}: ${errorLine(err)}`;
        deps.health.stall(ctx.topic, ctx.partition, messages[0]!.offset, reason);
        deps.log.warn({ topic: ctx.topic, partition: ctx.partition, offset: messages[0]!.offset, count: messages.length, kind, failures, err: { message: errorLine(err), type: (err as { type?: string }).type } }, "parse transaction failed");
        if (unknown >= maxUnknown) return { outcome: "gave_up", error: err, attempts: unknown };
        // The first redo after a size refusal needs no wait: the limit was just re-read.
        const wait = kind === "too_large" && tooLarge === 1 ? 0 : Math.min(BACKOFF_MAX_MS, this.backoffFirstMs * 2 ** Math.min(failures - 1, 10));
        await pause(wait, ctx);
      }
    }
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
      if (classifyFailure(err) === "rebalance") throw rebalanceCause(err);
    }
  }
}
