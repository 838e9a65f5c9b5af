import type { KafkaMessage } from "kafkajs";
import { setTimeout as sleep } from "node:timers/promises";
import { findModel } from "../../lib/embedding/registry";
import type { ApplyResult, BatchPlan, IncomingRecord, VectorIndex } from "../../lib/index/vector-index";
import type { Logger } from "../../lib/log";
import type { DeadLetter } from "./dead-letters";
import { decodeEmbedding, type IndexHolds } from "./decode";
import type { PartitionHealth } from "./health";
import type { IndexerMetrics } from "./metrics";
import type { ReddbMirror } from "./mirror";

/** What the runner needs of the index (VectorIndex; a test may wrap one to make it fail). */
export type IndexSink = Pick<VectorIndex, "nextOffset" | "plan" | "commit" | "advanceOffset" | "dim" | "model">;

export interface BatchRunnerDeps {
  topic: string;
  index: IndexSink;
  /**
   * EMBED_MODEL: the model the index takes (checked at start against the one
   * it holds). Records of another model or dimension are dead-lettered as
   * `model_mismatch`.
   */
  model: string;
  deadLetters: { send(letters: DeadLetter[]): Promise<void>; readonly topic: string };
  health: PartitionHealth;
  metrics: IndexerMetrics;
  log: Logger;
  mirror?: Pick<ReddbMirror, "send">;
  /** Aborted at shutdown: every wait gives up. */
  signal: AbortSignal;
  /**
   * Tries of a batch that fails for an unclassified reason (an LMDB or
   * in-memory index error) before its records are applied one by one to find
   * the one at fault. 3: a passing hiccup gets two more chances, a poison
   * record costs a few seconds.
   */
  maxAttempts?: number;
  /** First wait between tries; doubles up to `maxBackoffMs`. */
  firstBackoffMs?: number;
  maxBackoffMs?: number;
}

/** The batch, as kafkajs handed it over, for one partition. */
export interface BatchJob {
  partition: number;
  messages: KafkaMessage[];
  /** The offset after the batch's last message (gaps of transaction markers included). */
  nextOffset: number;
}

/** What the runner asks of the consumer while it waits. */
export interface BatchContext {
  /** False once the partition was revoked, the consumer stops or the process shuts down. */
  stillOurs: () => boolean;
  heartbeat: () => Promise<void>;
}

/** The store refused even an offset-only write: no record is at fault, the whole batch waits. */
class StoreFailing extends Error {}

const oneLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ").slice(0, 300);

/**
 * Takes one batch of one partition to the index so that the partition always
 * moves on, and never before what it owes is durable:
 * 1. records that can never be indexed (not UTF-8, not JSON, not an embedding
 *    record, an unusable vector, a vector of another model or dimension than
 *    the index holds) are dead-lettered, and the broker has them before the
 *    index's offset passes them;
 * 2. the rest is applied as one batch (mirror first, then LMDB with the offset
 *    after the batch). A RedDB outage or an unreachable dead-letter topic is
 *    waited out, as long as it lasts;
 * 3. a batch that fails for an unclassified reason is tried `maxAttempts`
 *    times, then its records are applied one by one: the one that still fails
 *    is dead-lettered as `unprocessable` and the others are indexed. If the
 *    store refuses even an offset-only write, it is the store, not a record:
 *    nothing is dead-lettered and the batch waits.
 * While it retries or waits, the partition is reported stalled in /health.
 * `run` resolves true when the batch is through, false when it gave up
 * because the partition is no longer ours (the next owner re-reads it).
 */
export class BatchRunner {
  private readonly maxAttempts: number;
  /** Models (and dimensions) already reported as not this index's: one log line each, not one per record. */
  private readonly mismatchLogged = new Set<string>();

  constructor(private readonly deps: BatchRunnerDeps) {
    this.maxAttempts = deps.maxAttempts ?? 3;
  }

  async run(job: BatchJob, ctx: BatchContext): Promise<boolean> {
    let delay = this.deps.firstBackoffMs ?? 500;
    for (;;) {
      try {
        const done = await this.runOnce(job, ctx);
        if (done) this.deps.health.clear(job.partition);
        return done;
      } catch (err) {
        if (!(err instanceof StoreFailing) || this.deps.signal.aborted) throw err;
        this.stall(job.partition, `the index store refuses writes: ${oneLine(err.cause)}`);
        this.deps.log.error({ topic: this.deps.topic, partition: job.partition, err: { message: oneLine(err.cause) }, retryInMs: delay }, "index store refuses writes; waiting");
        if (!(await this.pause(delay, ctx))) return false;
        delay = Math.min(delay * 2, this.deps.maxBackoffMs ?? 5_000);
      }
    }
  }

  private async runOnce(job: BatchJob, ctx: BatchContext): Promise<boolean> {
    const { topic, index, metrics } = this.deps;
    const { partition, nextOffset } = job;
    const from = index.nextOffset(topic, partition) ?? 0;
    const records: IncomingRecord[] = [];
    const dead: DeadLetter[] = [];
    const holds = this.holds();
    let before = 0;
    for (const message of job.messages) {
      const offset = Number(message.offset);
      if (offset < from) {
        before++;
        continue;
      }
      const decoded = decodeEmbedding(message.value, holds);
      if (decoded.ok) {
        records.push({ offset, record: decoded.record });
        // An empty index of a model the registry does not know: its first record sets the dimension.
        holds.dim ??= decoded.record.dim;
      } else {
        dead.push({ partition, message, reason: decoded.reason, error: decoded.error, attempts: 1, partial: decoded.partial });
      }
    }
    metrics.alreadyApplied += before;
    if (nextOffset <= from) return true;

    if (!(await this.sendDeadLetters(partition, dead, ctx))) return false;

    let lastError: unknown;
    let delay = this.deps.firstBackoffMs ?? 500;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      try {
        return await this.apply(partition, records, nextOffset, ctx);
      } catch (err) {
        if (this.deps.signal.aborted) return false;
        lastError = err;
        metrics.batchRetries++;
        this.deps.log.warn({ topic, partition, offset: from, attempt, of: this.maxAttempts, err: { message: oneLine(err) } }, "indexing a batch failed");
        this.stall(partition, `indexing failed (attempt ${attempt} of ${this.maxAttempts}): ${oneLine(err)}`);
        if (attempt < this.maxAttempts) {
          if (!(await this.pause(delay, ctx))) return false;
          delay = Math.min(delay * 2, this.deps.maxBackoffMs ?? 5_000);
        }
      }
    }
    return this.isolate(job, records, lastError, ctx);
  }

  /** Apply the records one at a time; the one that still fails is dead-lettered as `unprocessable`. */
  private async isolate(job: BatchJob, records: IncomingRecord[], batchError: unknown, ctx: BatchContext): Promise<boolean> {
    const { topic, metrics, log } = this.deps;
    const { partition } = job;
    metrics.isolations++;
    this.stall(partition, `finding the record that fails: ${oneLine(batchError)}`);
    for (const r of records) {
      if (!ctx.stillOurs()) return false;
      try {
        if (!(await this.apply(partition, [r], r.offset + 1, ctx))) return false;
        continue;
      } catch (err) {
        if (this.deps.signal.aborted) return false;
        // Everything before r is applied or dead-lettered: moving the offset to r is
        // right, and shows whether the store takes writes at all.
        this.advance(partition, r.offset);
        const message = job.messages.find((m) => Number(m.offset) === r.offset) as KafkaMessage;
        const { text, topic: sourceTopic, kafka_ts, doc_id, model } = r.record;
        const letter: DeadLetter = {
          partition,
          message,
          reason: "unprocessable",
          error: oneLine(err),
          attempts: this.maxAttempts + 1,
          partial: { text: text ?? null, topic: sourceTopic, kafka_ts, doc_id, model },
        };
        log.error({ topic, partition, offset: r.offset, err: { message: oneLine(err) } }, "a record kept failing; dead-lettered as unprocessable");
        if (!(await this.sendDeadLetters(partition, [letter], ctx))) return false;
        this.advance(partition, r.offset + 1);
      }
    }
    // Dead-lettered records after the last indexed one.
    this.advance(partition, job.nextOffset);
    return true;
  }

  /** The model and dimension this index takes: what it holds, else EMBED_MODEL and its registry dimension. */
  private holds(): IndexHolds {
    const { index, model } = this.deps;
    return { model: index.model ?? model, dim: index.dim ?? findModel(model)?.dim };
  }

  private advance(partition: number, offset: number): void {
    try {
      this.deps.index.advanceOffset(this.deps.topic, partition, offset);
    } catch (err) {
      throw new StoreFailing("the index store refuses writes", { cause: err });
    }
  }

  /** Plan, mirror, commit: the documents and the offset after them in one LMDB transaction. */
  private async apply(partition: number, records: IncomingRecord[], nextOffset: number, ctx: BatchContext): Promise<boolean> {
    const { topic, index, metrics, mirror, signal } = this.deps;
    const plan = index.plan(topic, partition, records, nextOffset);
    if (mirror && plan.puts.length > 0) {
      await mirror.send(plan.puts, signal, (err) => {
        this.stall(partition, `waiting on the RedDB mirror: ${oneLine(err)}`);
        ctx.heartbeat().catch(() => undefined);
      });
      metrics.mirrored += plan.puts.length;
    }
    if (!ctx.stillOurs()) return false;
    const result = index.commit(plan);
    this.account(plan, result);
    return true;
  }

  /** Produce dead letters, waiting out a Kafka outage; false when the partition stopped being ours meanwhile. */
  private async sendDeadLetters(partition: number, letters: DeadLetter[], ctx: BatchContext): Promise<boolean> {
    if (letters.length === 0) return true;
    let delay = this.deps.firstBackoffMs ?? 500;
    for (;;) {
      try {
        await this.deps.deadLetters.send(letters);
        for (const l of letters) {
          this.deps.metrics.deadLettered(l.reason);
          if (l.reason !== "unprocessable") this.deps.metrics.invalidRecords++;
          if (l.reason === "model_mismatch") this.logMismatchOnce(partition, l);
          else this.deps.log.warn({ topic: this.deps.topic, partition, offset: l.message.offset, reason: l.reason, error: l.error, dlq: this.deps.deadLetters.topic }, "record dead-lettered");
        }
        return true;
      } catch (err) {
        if (!ctx.stillOurs()) return false;
        this.deps.metrics.deadLetterFailures++;
        this.stall(partition, `dead-letter topic ${this.deps.deadLetters.topic} unavailable: ${oneLine(err)}`);
        this.deps.log.warn({ topic: this.deps.topic, partition, err: { message: oneLine(err) }, retryInMs: delay }, "producing dead letters failed; retrying");
        if (!(await this.pause(delay, ctx))) return false;
        delay = Math.min(delay * 2, this.deps.maxBackoffMs ?? 5_000);
      }
    }
  }

  private stall(partition: number, reason: string): void {
    this.deps.health.stall(partition, this.deps.index.nextOffset(this.deps.topic, partition) ?? 0, reason);
  }

  /** Wait `ms` (cut short at shutdown), keep the group membership; false when the partition is no longer ours. */
  private async pause(ms: number, ctx: BatchContext): Promise<boolean> {
    await sleep(ms, undefined, { signal: this.deps.signal }).catch(() => undefined);
    if (!ctx.stillOurs()) return false;
    await ctx.heartbeat();
    return ctx.stillOurs();
  }

  private account(plan: BatchPlan, result: ApplyResult): void {
    const { metrics, log, topic, index } = this.deps;
    metrics.inserted += result.inserted;
    metrics.updated += result.updated;
    metrics.evicted += result.evicted;
    metrics.alreadyApplied += plan.alreadyApplied;
    metrics.zeroVectors += plan.zeroVectors;
    // The runner dead-letters other models' records before planning: the index's own check is a backstop.
    metrics.refusedDim += plan.refused.length;
    for (const r of plan.refused) log.error({ topic, partition: plan.partition, doc_id: r.docId, model: r.model, dim: r.dim, indexModel: index.model, indexDim: index.dim }, "a record of another model or dimension than the index holds was left out");
  }

  /** One line per model and dimension dead-lettered as not this index's, not one per record (a topic of another model's records would flood the log). */
  private logMismatchOnce(partition: number, l: DeadLetter): void {
    // The error names the record's model and dimension and what the index holds: one key per kind of mismatch.
    if (this.mismatchLogged.has(l.error)) return;
    this.mismatchLogged.add(l.error);
    this.deps.log.error({ topic: this.deps.topic, partition, offset: l.message.offset, model: l.partial.model, dlq: this.deps.deadLetters.topic }, `records dead-lettered as model_mismatch (logged once per model and dimension): ${l.error}`);
  }
}
