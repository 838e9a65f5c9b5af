import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from "kafkajs";
import type { Logger } from "../../lib/log";
import { Backoff } from "./backoff";
import { UnitFailures, classifyFailure, splitUnits } from "./failures";
import type { Health, PartitionStall } from "./health";
import type { PartitionOwners } from "./partition-owners";
import type { WorkerStats } from "./stats";
import { PartitionLost, commitUnit, deadLetterUnit, transformUnit, type UnitDeps, type UnitResult } from "./unit-of-work";

/**
 * Most records committed as one unit (one transaction, at most one Parquet
 * file). Bounds the work redone after a crash and the files' count alike:
 * at 5,000 records/s a partition writes a file every ~0.2–0.6 s, at the real
 * model's ~100 records/s a unit of a backlog takes ~10 s.
 */
const UNIT_MAX_RECORDS = 1_000;
/** Partitions whose batches are handled at once; their texts share embed batches. */
const PARTITIONS_CONCURRENTLY = 8;
/** How often a long embed wait heartbeats the group and checks for shutdown. */
const WAIT_TICK_MS = 1_000;
/**
 * A unit in progress this long counts as not advancing in /health even when
 * no dependency reports trouble (a broker that stopped answering mid-commit:
 * the producer retries without end). A unit of 1,000 records at the real
 * model's ~100 records/s, shared by 3 partitions, takes ~30 s.
 */
const SLOW_UNIT_MS = 60_000;

export interface EmbedConsumerDeps {
  kafka: Kafka;
  inputTopic: string;
  group: string;
  unit: UnitDeps;
  owners: PartitionOwners;
  stats: WorkerStats;
  health: Health;
  log: Logger;
  signal: AbortSignal;
}

/**
 * The consume–transform–produce loop: eachBatch with manual offsets; per
 * partition, units of consecutive records are embedded and then committed in
 * one transaction each (unit-of-work.ts). After any failed commit the partition
 * is taken over again and consumption restarts at the committed offset.
 */
export class EmbedConsumer {
  readonly consumer: Consumer;
  /** Partitions taken over since the last rebalance. */
  private readonly owned = new Set<number>();
  private readonly kafkaBackoff = new Backoff();
  /** Failed units per partition: bounded retries, then isolation, then the DLQ (failures.ts). */
  private readonly failures = new UnitFailures();
  /** Per partition, the first offset of the unit being embedded or committed, and since when. */
  private readonly inProgress = new Map<number, { offset: string; since: number }>();
  /** Per partition, the next offset to commit, as far as this worker knows. */
  private readonly position = new Map<number, string>();
  /** Per partition, the commit past a fetch of only transaction markers / aborted records, if one is under way (handleBatch waits for it). */
  private readonly markerCommits = new Map<number, Promise<void>>();
  private operatorPaused = false;
  private pausedSince = 0;
  private running = false;

  constructor(private readonly deps: EmbedConsumerDeps) {
    this.consumer = deps.kafka.consumer({
      groupId: deps.group,
      readUncommitted: false,
      // Bounds an idle fetch, and so how long a stop waits for one.
      maxWaitTimeInMs: 500,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = [...(payload.memberAssignment[deps.inputTopic] ?? [])].sort((a, b) => a - b);
      this.owned.clear();
      this.failures.forget();
      this.inProgress.clear();
      this.position.clear();
      deps.stats.assignedPartitions = assigned;
      for (const p of [...deps.stats.lagByPartition.keys()]) if (!assigned.includes(p)) deps.stats.lagByPartition.delete(p);
      deps.log.info({ assigned, memberId: payload.memberId }, "partitions assigned");
      void deps.owners.keepOnly(deps.inputTopic, assigned);
    });
    // A fetch that holds only transaction markers or aborted records never
    // reaches eachBatch: kafkajs moves its fetch position past them and, with
    // autoCommit off, commits nothing. Its END_BATCH_PROCESS (batchSize 0) is
    // where we learn of it and commit past them.
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic !== deps.inputTopic || payload.batchSize !== 0 || payload.firstOffset === null) return;
      this.skipMarkers(payload.partition, payload.firstOffset, payload.lastOffset, payload.highWatermark);
    });
    deps.health.onChange((component) => {
      if (component !== "embedding") return;
      // During an outage nothing new is fetched; what is in flight waits.
      this.applyPause();
    });
    deps.health.reportStalls(() => this.stalls());
  }

  /**
   * The input partitions not advancing, and why: a unit failing (retried,
   * isolated, waited out), a unit waiting for a dependency in trouble or slow
   * beyond SLOW_UNIT_MS, or an operator pause. One entry per partition, the
   * most specific reason first.
   */
  stalls(): PartitionStall[] {
    const out = new Map<number, PartitionStall>();
    const add = (partition: number, offset: string | null, reason: string, since: number) => {
      if (!out.has(partition)) out.set(partition, { topic: this.deps.inputTopic, partition, offset, reason, since_ts: since / 1000 });
    };
    for (const f of this.failures.stalls()) add(f.partition, f.offset, f.reason, f.since);
    const trouble = this.deps.health.trouble();
    for (const [partition, unit] of this.inProgress) {
      if (trouble) add(partition, unit.offset, `waiting for ${trouble.component}: ${trouble.reason}`, unit.since);
      else if (Date.now() - unit.since > SLOW_UNIT_MS) add(partition, unit.offset, `unit in progress for ${Math.round((Date.now() - unit.since) / 1000)} s`, unit.since);
    }
    if (this.operatorPaused) for (const p of this.deps.stats.assignedPartitions) add(p, this.position.get(p) ?? null, "paused by an operator", this.pausedSince);
    return [...out.values()].sort((a, b) => a.partition - b.partition);
  }

  get paused(): boolean {
    return this.operatorPaused;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.deps.inputTopic], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: PARTITIONS_CONCURRENTLY,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    this.running = true;
    this.applyPause();
  }

  /** Operator pause (POST /pause): batches in flight finish, nothing new is fetched. */
  pause(): void {
    if (!this.operatorPaused) this.pausedSince = Date.now();
    this.operatorPaused = true;
    this.applyPause();
  }

  resume(): void {
    this.operatorPaused = false;
    this.applyPause();
  }

  /** Fetch nothing while paused by an operator or while the embedding service is away. */
  private applyPause(): void {
    // kafkajs refuses pause/resume before run(); start() applies the state then.
    if (!this.running) return;
    const topics = [{ topic: this.deps.inputTopic }];
    if (this.operatorPaused || this.deps.health.isDegraded("embedding")) this.consumer.pause(topics);
    else this.consumer.resume(topics);
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = batch;
    const live = () => isRunning() && !isStale() && !this.deps.signal.aborted;
    if (messages.length === 0) return;
    await this.markerCommits.get(partition);
    if (!this.owned.has(partition)) {
      const committed = await this.takeOver(topic, partition, live);
      if (committed === undefined) return;
      if (committed >= 0n) this.position.set(partition, committed.toString());
      // Committed offsets may have moved while the previous owner was fenced.
      if (committed >= 0n && BigInt(messages[0]!.offset) < committed) {
        this.consumer.seek({ topic, partition, offset: committed.toString() });
        return;
      }
    }
    const producer = this.deps.owners.producer(topic, partition);
    if (!producer) return;

    // Records of a unit that failed again and again go one per unit (failures.ts).
    const units = splitUnits(messages, UNIT_MAX_RECORDS, this.failures.isolateThrough(partition));
    const transform = (unit: KafkaMessage[]) => {
      const work = transformUnit(this.deps.unit, topic, partition, unit);
      // A unit transformed ahead may be abandoned (failed commit, lost partition, shutdown).
      work.catch(() => undefined);
      return work;
    };
    let next = transform(units[0]!);
    try {
      for (let u = 0; u < units.length; u++) {
        if (!live()) return;
        const unit = units[u]!;
        const lastOffset = unit[unit.length - 1]!.offset;
        // The unit that ends the batch commits past the transaction markers (and
        // aborted records) after its last record: kafkajs filtered them out, they
        // hold nothing to process, and committing short of them leaves the group
        // one offset behind forever on an idle transactional input (KAFKA-6607).
        const nextOffset = u === units.length - 1 ? afterBatch(batch.lastOffset(), lastOffset) : undefined;
        const range = { topic, partition, firstOffset: unit[0]!.offset, lastOffset, nextOffset };
        const started = performance.now();
        this.inProgress.set(partition, { offset: range.firstOffset, since: Date.now() });
        const transformed = await this.whileHeartbeating(next, heartbeat, live);
        if (transformed === undefined) return;
        if ("error" in transformed) {
          // Nothing was written: consume again from this unit's first record.
          await this.unitFailed(range, unit, transformed.error, "transform", live);
          return;
        }
        const result = transformed.value;
        // The next unit is embedded while this one commits, so the embedding service
        // is not left idle for the commit (and this unit's last, partial batch
        // fills up with the next unit's texts instead of waiting EMBED_MAX_WAIT_SEC).
        // Commits stay in offset order; a transformed unit has no side effects.
        if (u + 1 < units.length) next = transform(units[u + 1]!);
        this.deps.log.debug({ ...range, rows: result.rows.length, dlq: result.dlq.length, durationMs: Math.round(performance.now() - started) }, "unit embedded");
        if (!(await this.commit(producer, range, unit, result, live, started))) return;
        resolveOffset(range.lastOffset);
        this.deps.stats.lagByPartition.set(partition, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(range.nextOffset ?? (BigInt(range.lastOffset) + 1n).toString()))));
        await heartbeat();
      }
    } finally {
      this.inProgress.delete(partition);
    }
  }

  /** Queue a commit past offsets [first, last] of `partition`, which hold only transaction markers or aborted records. */
  private skipMarkers(partition: number, first: string, last: string, highWatermark: string): void {
    const work = (this.markerCommits.get(partition) ?? Promise.resolve())
      .then(() => this.commitPastMarkers(partition, first, last, highWatermark))
      .catch((err: unknown) => {
        // Nothing lost: the offsets stay where they were until the next record's unit commits past them.
        this.owned.delete(partition);
        this.deps.log.warn({ topic: this.deps.inputTopic, partition, firstOffset: first, lastOffset: last, err: { message: err instanceof Error ? err.message : String(err) } }, "commit past transaction markers failed");
      });
    this.markerCommits.set(partition, work);
    void work.finally(() => {
      if (this.markerCommits.get(partition) === work) this.markerCommits.delete(partition);
    });
  }

  /**
   * Commit the offset after `last` in a transaction of its own (offsets only,
   * fenced like every commit of this partition) — only when the group's
   * committed offset is `first` itself: then nothing before or between was
   * left unprocessed, and exactly-once holds.
   */
  private async commitPastMarkers(partition: number, first: string, last: string, highWatermark: string): Promise<void> {
    const topic = this.deps.inputTopic;
    const live = () => this.running && !this.deps.signal.aborted;
    if (!live()) return;
    if (!this.owned.has(partition)) {
      const committed = await this.takeOver(topic, partition, live);
      if (committed === undefined) return;
      if (committed >= 0n) this.position.set(partition, committed.toString());
    }
    const position = this.position.get(partition);
    const producer = this.deps.owners.producer(topic, partition);
    if (position === undefined || BigInt(position) !== BigInt(first) || !producer || !live()) return;
    const next = (BigInt(last) + 1n).toString();
    const tx = await producer.transaction();
    try {
      await tx.sendOffsets({ consumerGroupId: this.deps.group, topics: [{ topic, partitions: [{ partition, offset: next }] }] });
      await tx.commit();
    } catch (err) {
      await tx.abort().catch(() => undefined);
      throw err;
    }
    this.position.set(partition, next);
    this.deps.stats.lagByPartition.set(partition, Math.max(0, Number(BigInt(highWatermark) - BigInt(next))));
    this.deps.log.debug({ topic, partition, firstOffset: first, lastOffset: last }, "committed past transaction markers");
  }

  /**
   * Commit one unit; true when it committed. A failure is classified and
   * handled (unitFailed), and false tells the caller to stop this batch: the
   * partition consumes again from its committed offset.
   */
  private async commit(
    producer: NonNullable<ReturnType<PartitionOwners["producer"]>>,
    range: { topic: string; partition: number; firstOffset: string; lastOffset: string; nextOffset?: string },
    unit: KafkaMessage[],
    result: UnitResult,
    live: () => boolean,
    started: number,
  ): Promise<boolean> {
    try {
      const committed = await commitUnit(this.deps.unit, producer, range, result, live);
      this.recordCommitted(unit.length, committed, unit);
      this.failures.succeeded(range.partition, range.lastOffset);
      this.position.set(range.partition, range.nextOffset ?? (BigInt(range.lastOffset) + 1n).toString());
      this.deps.log.info({ ...range, rows: committed.rows, dlq: committed.dlq, durationMs: Math.round(performance.now() - started) }, "unit committed");
      return true;
    } catch (err) {
      if (err instanceof PartitionLost || !live()) return false;
      await this.unitFailed(range, unit, err, "commit", live);
      return false;
    }
  }

  /**
   * A unit failed. Transient causes (Kafka away, fencing, a rebalance, a full
   * disk) are waited out; a size refusal re-reads the topics' limits; anything
   * else is retried MAX_UNIT_ATTEMPTS times, then the unit is split into single
   * records and the one that keeps failing is dead-lettered — so no record
   * stops its partition for good. Either way the partition is recovered (a
   * failed commit may or may not have committed) and consumes again from the
   * committed offset.
   */
  private async unitFailed(
    range: { topic: string; partition: number; firstOffset: string; lastOffset: string },
    unit: KafkaMessage[],
    err: unknown,
    stage: "transform" | "commit",
    live: () => boolean,
  ): Promise<void> {
    const { topic, partition } = range;
    const message = err instanceof Error ? err.message : String(err);
    const kind = classifyFailure(err);
    const action = this.failures.failed(partition, range.firstOffset, range.lastOffset, kind, `${stage} failed: ${message}`);
    this.deps.stats.transactionFailures++;
    if (kind === "transient") this.deps.health.degrade("kafka", `${stage} failed: ${message}`);
    if (kind === "too_large") {
      // The limit was lowered since it was read: read it again before the retry.
      this.deps.unit.limits.invalidate(this.deps.unit.outputTopic);
      this.deps.unit.limits.invalidate(this.deps.unit.dlqTopic);
    }
    this.deps.log.warn({ ...range, kind, action, err: { message } }, "unit failed");
    await this.kafkaBackoff.wait(this.deps.signal).catch(() => undefined);
    if (!live()) return;
    if (stage === "transform" && action.kind !== "dead_letter") {
      // Nothing was sent: no transaction to settle, only the records to read again.
      this.consumer.seek({ topic, partition, offset: range.firstOffset });
      return;
    }
    this.owned.delete(partition);
    const committed = await this.takeOver(topic, partition, live);
    if (committed === undefined) return;
    const resumeAt = committed >= 0n ? committed.toString() : range.firstOffset;
    if (action.kind === "dead_letter" && BigInt(resumeAt) === BigInt(action.offset) && unit.length === 1) {
      if (await this.deadLetter(range, unit[0]!, action, message, live)) {
        this.consumer.seek({ topic, partition, offset: (BigInt(action.offset) + 1n).toString() });
        return;
      }
    }
    this.consumer.seek({ topic, partition, offset: resumeAt });
  }

  /**
   * Commit the DLQ record of a message that failed every attempt, alone; true
   * when it committed. If even that fails, the record is read and tried again
   * (and dead-lettered again) after a backoff: only a DLQ topic that cannot be
   * written to keeps the partition waiting, as an outage would.
   */
  private async deadLetter(
    range: { topic: string; partition: number },
    m: KafkaMessage,
    action: { reason: "too_large" | "unprocessable"; attempts: number },
    error: string,
    live: () => boolean,
  ): Promise<boolean> {
    const producer = this.deps.owners.producer(range.topic, range.partition);
    if (!producer) return false;
    const result = deadLetterUnit(this.deps.unit, range.topic, range.partition, m, { reason: action.reason, error: error.replace(/\s+/g, " ").slice(0, 500), attempts: action.attempts });
    const at = { ...range, firstOffset: m.offset, lastOffset: m.offset };
    this.deps.log.error({ ...at, reason: action.reason, attempts: action.attempts, err: { message: error } }, "record failed every attempt; dead-lettering it");
    try {
      const committed = await commitUnit(this.deps.unit, producer, at, result, live);
      this.recordCommitted(1, committed, [m]);
      this.failures.succeeded(range.partition, m.offset);
      this.position.set(range.partition, (BigInt(m.offset) + 1n).toString());
      return true;
    } catch (err) {
      this.deps.log.error({ ...at, err: { message: err instanceof Error ? err.message : String(err) } }, "dead-lettering failed; the record will be tried again");
      return false;
    }
  }

  private recordCommitted(count: number, committed: { rows: number; dlq: number; parquetFile?: string }, messages: KafkaMessage[]): void {
    const s = this.deps.stats;
    s.stage.observe(messages.map((m) => m.timestamp));
    s.recordsIn += count;
    s.recordsOut += committed.rows;
    s.dlqRecords += committed.dlq;
    s.transactions++;
    if (committed.parquetFile) {
      s.parquetFiles++;
      s.parquetRows += committed.rows;
    }
    this.deps.health.recover("kafka");
    this.kafkaBackoff.reset();
  }

  /** PartitionOwners.takeOver, retried with capped backoff while Kafka is unreachable. */
  private async takeOver(topic: string, partition: number, live: () => boolean): Promise<bigint | undefined> {
    for (;;) {
      if (!live()) return undefined;
      try {
        const committed = await this.deps.owners.takeOver(topic, partition);
        this.owned.add(partition);
        return committed;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.deps.health.degrade("kafka", `cannot take partition ${partition} over: ${message}`);
        this.deps.log.warn({ topic, partition, err: { message } }, "partition takeover failed; retrying");
        await this.kafkaBackoff.wait(this.deps.signal).catch(() => undefined);
      }
    }
  }

  /**
   * Await `work` while keeping the group membership alive: its value or its
   * error (a heartbeat's own error, e.g. a rebalance, is thrown to kafkajs).
   * Resolves undefined when the partition was lost or the worker is stopping:
   * the unit is then abandoned (its records come again from the committed offset).
   */
  private async whileHeartbeating<T>(work: Promise<T>, heartbeat: () => Promise<void>, live: () => boolean): Promise<{ value: T } | { error: unknown } | undefined> {
    let settled = false;
    const done = work.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    void done.finally(() => (settled = true));
    for (;;) {
      const tick = new Promise<"tick">((r) => setTimeout(() => r("tick"), WAIT_TICK_MS).unref());
      const first = await Promise.race([done, tick]);
      if (first !== "tick") {
        if ("error" in first && !live()) return undefined;
        return first;
      }
      if (!live() && !settled) return undefined;
      await heartbeat();
    }
  }
}

/**
 * The offset to commit after a batch whose last record is `lastRecord`:
 * past `batchLast`, kafkajs' last offset of the fetch, which counts the
 * control records and aborted records it filtered out — undefined when the
 * batch ends with that record (the usual lastRecord + 1 applies).
 */
export function afterBatch(batchLast: string, lastRecord: string): string | undefined {
  return BigInt(batchLast) > BigInt(lastRecord) ? (BigInt(batchLast) + 1n).toString() : undefined;
}
