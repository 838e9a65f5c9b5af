import { Partitioners, type Admin, type Kafka, type Producer } from "kafkajs";
import type { ParquetSink } from "../../lib/parquet";
import type { Logger } from "../../lib/log";

/**
 * One transactional producer per input partition this worker owns.
 *
 * Why per partition: kafkajs 2 has no KIP-447 (fencing by consumer-group
 * metadata), so the only zombie fencing available is the classic one — a
 * transactional id that follows the *partition*, not the process. When
 * partition P moves from worker A to worker B, B's producer for P initialises
 * the id `embedline.<group>.<topic>.<P>` and the broker bumps its epoch: A's
 * open transaction on P is aborted and any later send or commit from A fails
 * with a fencing error. A per-process id would leave A free to commit output
 * (and offsets) for records B is processing too — duplicates. The cost is one
 * producer connection per owned partition, and a fresh one after every
 * rebalance.
 */
export class PartitionOwners {
  private readonly producers = new Map<string, Producer>();

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly group: string,
    private readonly parquet: ParquetSink | undefined,
    private readonly log: Logger,
  ) {}

  transactionalId(topic: string, partition: number): string {
    return `embedline.${this.group}.${topic}.${partition}`;
  }

  producer(topic: string, partition: number): Producer | undefined {
    return this.producers.get(key(topic, partition));
  }

  /**
   * Take partition P over, or recover it after a failed commit: (1) a fresh
   * producer initialises P's transactional id, which fences every earlier
   * producer of P and completes or aborts its open transaction; (2) only then is
   * the group's committed offset C final; (3) Parquet files of P starting at or
   * beyond C never committed and are deleted. Resolves to C — the next offset to
   * process (-1: nothing committed yet, start where the consumer starts).
   */
  async takeOver(topic: string, partition: number): Promise<bigint> {
    await this.release(topic, partition);
    const producer = this.kafka.producer({
      transactionalId: this.transactionalId(topic, partition),
      // kafkajs 2's default (Java-compatible murmur2) partitioner, named to skip its warning.
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
      // Unlimited retries: what an idempotent producer needs (kafkajs warns about
      // anything less). A broker that is down is waited out at ≤5 s intervals;
      // shutdown stops the wait by disconnecting.
      retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5_000 },
    });
    this.producers.set(key(topic, partition), producer);
    await producer.connect();
    // The fencing itself: kafkajs initialises the transactional id only when a
    // first transaction begins (connect() takes a plain idempotent id), so an
    // empty one is begun and aborted here. Until then the previous owner could
    // still commit, and the offset read below could be stale.
    await (await producer.transaction()).abort();
    const [entry] = await this.admin.fetchOffsets({ groupId: this.group, topics: [topic] });
    const committed = BigInt(entry?.partitions.find((p) => p.partition === partition)?.offset ?? "-1");
    const dropped = (await this.parquet?.dropUncommitted(topic, partition, committed < 0n ? 0n : committed)) ?? [];
    this.log.info({ topic, partition, committed: committed.toString(), droppedParquet: dropped.length }, "partition taken over");
    return committed;
  }

  async release(topic: string, partition: number): Promise<void> {
    const k = key(topic, partition);
    const producer = this.producers.get(k);
    if (!producer) return;
    this.producers.delete(k);
    await producer.disconnect().catch(() => undefined);
  }

  /** Disconnect the producers of partitions no longer assigned to this worker. */
  async keepOnly(topic: string, partitions: readonly number[]): Promise<void> {
    for (const k of [...this.producers.keys()]) {
      const [t, p] = splitKey(k);
      if (t !== topic || !partitions.includes(p)) await this.release(t, p);
    }
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.producers.keys()].map((k) => this.release(...splitKey(k))));
  }
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const splitKey = (k: string): [string, number] => {
  const i = k.lastIndexOf("\u0000");
  return [k.slice(0, i), Number(k.slice(i + 1))];
};
