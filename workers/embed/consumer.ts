import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from "kafkajs";
import type { Logger } from "../../lib/log";
import { Backoff } from "./backoff";
import type { Health } from "./health";
import type { PartitionOwners } from "./partition-owners";
import type { WorkerStats } from "./stats";
import { PartitionLost, commitUnit, transformUnit, type UnitDeps } from "./unit-of-work";

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
  private operatorPaused = false;
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
      deps.stats.assignedPartitions = assigned;
      for (const p of [...deps.stats.lagByPartition.keys()]) if (!assigned.includes(p)) deps.stats.lagByPartition.delete(p);
      deps.log.info({ assigned, memberId: payload.memberId }, "partitions assigned");
      void deps.owners.keepOnly(deps.inputTopic, assigned);
    });
    deps.health.onChange((component) => {
      if (component !== "embedding") return;
      // During an outage nothing new is fetched; what is in flight waits.
      this.applyPause();
    });
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
    if (!this.owned.has(partition)) {
      const committed = await this.takeOver(topic, partition, live);
      if (committed === undefined) return;
      // Committed offsets may have moved while the previous owner was fenced.
      if (committed >= 0n && BigInt(messages[0]!.offset) < committed) {
        this.consumer.seek({ topic, partition, offset: committed.toString() });
        return;
      }
    }
    const producer = this.deps.owners.producer(topic, partition);
    if (!producer) return;

    const units: KafkaMessage[][] = [];
    for (let i = 0; i < messages.length; i += UNIT_MAX_RECORDS) units.push(messages.slice(i, i + UNIT_MAX_RECORDS));
    const transform = (unit: KafkaMessage[]) => {
      const work = transformUnit(this.deps.unit, topic, partition, unit);
      // A unit transformed ahead may be abandoned (failed commit, lost partition, shutdown).
      work.catch(() => undefined);
      return work;
    };
    let next = transform(units[0]!);
    for (let u = 0; u < units.length; u++) {
      if (!live()) return;
      const unit = units[u]!;
      const range = { topic, partition, firstOffset: unit[0]!.offset, lastOffset: unit[unit.length - 1]!.offset };
      const started = performance.now();
      const result = await this.whileHeartbeating(next, heartbeat, live);
      if (result === undefined) return;
      // The next unit is embedded while this one commits, so the embedding service
      // is not left idle for the commit (and this unit's last, partial batch
      // fills up with the next unit's texts instead of waiting EMBED_MAX_WAIT_SEC).
      // Commits stay in offset order; a transformed unit has no side effects.
      if (u + 1 < units.length) next = transform(units[u + 1]!);
      this.deps.log.debug({ ...range, rows: result.rows.length, dlq: result.dlq.length, durationMs: Math.round(performance.now() - started) }, "unit embedded");
      try {
        const { parquetFile } = await commitUnit(this.deps.unit, producer, range, result, live);
        this.recordCommitted(unit.length, result, parquetFile);
        this.deps.log.info({ ...range, rows: result.rows.length, dlq: result.dlq.length, durationMs: Math.round(performance.now() - started) }, "unit committed");
      } catch (err) {
        if (err instanceof PartitionLost || !live()) return;
        await this.recoverAfterFailedCommit(topic, partition, messages[0]!.offset, err, live);
        return;
      }
      resolveOffset(range.lastOffset);
      this.deps.stats.lagByPartition.set(partition, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(range.lastOffset) - 1n)));
      await heartbeat();
    }
  }

  private recordCommitted(count: number, result: { rows: unknown[]; dlq: unknown[] }, parquetFile: string | undefined): void {
    const s = this.deps.stats;
    s.recordsIn += count;
    s.recordsOut += result.rows.length;
    s.dlqRecords += result.dlq.length;
    s.transactions++;
    if (parquetFile) {
      s.parquetFiles++;
      s.parquetRows += result.rows.length;
    }
    this.deps.health.recover("kafka");
    this.kafkaBackoff.reset();
  }

  /**
   * The transaction failed (broker away, fenced, timed out) and may or may not
   * have committed. Take the partition over again — which settles that and
   * deletes the unit's Parquet file if it did not — and consume again from the
   * committed offset.
   */
  private async recoverAfterFailedCommit(topic: string, partition: number, batchStart: string, err: unknown, live: () => boolean): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    this.deps.stats.transactionFailures++;
    this.deps.health.degrade("kafka", `transaction failed: ${message}`);
    this.deps.log.warn({ topic, partition, err: { message } }, "transaction failed; recovering the partition");
    this.owned.delete(partition);
    const committed = await this.takeOver(topic, partition, live);
    if (committed === undefined) return;
    this.consumer.seek({ topic, partition, offset: committed >= 0n ? committed.toString() : batchStart });
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
   * Await `work` while keeping the group membership alive. Resolves undefined
   * when the partition was lost or the worker is stopping: the unit is then
   * abandoned (its records come again from the committed offset).
   */
  private async whileHeartbeating<T>(work: Promise<T>, heartbeat: () => Promise<void>, live: () => boolean): Promise<T | undefined> {
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
        if ("error" in first) {
          if (!live()) return undefined;
          throw first.error;
        }
        return first.value;
      }
      if (!live() && !settled) return undefined;
      await heartbeat();
    }
  }
}
