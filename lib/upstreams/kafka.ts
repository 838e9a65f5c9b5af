import "server-only";
import { randomUUID } from "node:crypto";
import type { Admin, IHeaders, Kafka, Producer } from "kafkajs";
import { consoleConfig } from "@/lib/config/console";
import { createKafka } from "@/lib/kafka/client";
import { createLogger } from "@/lib/log";

/** Consumer groups the console creates for its own bounded reads; the lag view hides them. */
export const CONSOLE_GROUP_PREFIX = "embedline-console-read-";

interface Shared {
  kafka?: Kafka;
  admin?: Promise<Admin>;
  producer?: Promise<Producer>;
}
const KEY = Symbol.for("embedline.upstreams.kafka");
const shared = (): Shared => {
  const g = globalThis as { [KEY]?: Shared };
  g[KEY] ??= {};
  return g[KEY];
};

/** The console's one Kafka client (lag.ts counts records through it). */
export function kafka(): Kafka {
  const s = shared();
  const cfg = consoleConfig();
  // Few retries: the console reports a down broker instead of hanging a request on it.
  s.kafka ??= createKafka({ clientId: "embedline-console", brokers: cfg.kafkaBrokers, log: createLogger("console", cfg.logLevel), retries: 1 });
  return s.kafka;
}

/** One admin client per process, connected on first use and dropped after a failure so the next call reconnects. */
export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const s = shared();
  s.admin ??= (async () => {
    const admin = kafka().admin();
    await admin.connect();
    return admin;
  })();
  const pending = s.admin;
  try {
    return await fn(await pending);
  } catch (err) {
    if (s.admin === pending) s.admin = undefined;
    void pending.then((a) => a.disconnect()).catch(() => {});
    throw err;
  }
}

/** One idempotent producer per process for ingest and redrive. */
export async function producer(): Promise<Producer> {
  const s = shared();
  s.producer ??= (async () => {
    const p = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await p.connect();
    return p;
  })().catch((err) => {
    s.producer = undefined;
    throw err;
  });
  return s.producer;
}

export interface ReadMessage {
  partition: number;
  offset: string;
  timestamp: number;
  /** The key's bytes as read (the DLQ's original keys need not be UTF-8). */
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

export interface ReadPlan {
  topic: string;
  /** First offset to read and end (exclusive), per partition. */
  ranges: { partition: number; start: bigint; end: bigint }[];
}

/** A topic that does not exist (yet): kafkajs says the broker "does not host this topic-partition", after its retries. */
export function isMissingTopic(err: unknown): boolean {
  const e = err as { message?: unknown; type?: unknown } | null;
  return /does not host this topic-partition/i.test(String(e?.message ?? "")) || e?.type === "UNKNOWN_TOPIC_OR_PARTITION";
}

/**
 * Plan a read of the newest `limit` records: each partition's tail, `limit`
 * split across partitions in proportion to what each holds (all of the topic
 * when it holds no more than `limit`).
 */
export async function planNewest(topic: string, limit: number | "all"): Promise<ReadPlan> {
  const offsets = await withAdmin((a) => a.fetchTopicOffsets(topic));
  const sizes = offsets.map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }));
  const total = sizes.reduce((n, p) => n + Number(p.high - p.low), 0);
  const ranges = sizes.map((p) => {
    const held = Number(p.high - p.low);
    const take = limit === "all" || total <= limit ? held : Math.ceil((limit * held) / Math.max(1, total));
    return { partition: p.partition, start: p.high - BigInt(take), end: p.high };
  });
  return { topic, ranges: ranges.filter((r) => r.end > r.start) };
}

/**
 * Read the planned ranges with read_committed through a short-lived consumer;
 * `onMessage` gets each record (aborted transactions are skipped by Kafka).
 * Ends when every range is read, on `signal`, or at the deadline; the answer
 * says whether the read was complete.
 */
export async function readRanges(plan: ReadPlan, onMessage: (m: ReadMessage, read: { heartbeat: () => Promise<void> }) => void | Promise<void>, signal: AbortSignal): Promise<{ complete: boolean }> {
  if (plan.ranges.length === 0) return { complete: true };
  const consumer = kafka().consumer({ groupId: `${CONSOLE_GROUP_PREFIX}${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 250, sessionTimeout: 10_000 });
  const pending = new Map(plan.ranges.map((r) => [r.partition, r]));
  /**
   * The next offset of each partition `onMessage` has not had yet. A fetch can go
   * back over what was delivered — the seek below lands after the first fetch began
   * from the group's start, or a rebalance resumes from the uncommitted start — so
   * each offset is handed on once whatever the consumer re-reads.
   */
  const next = new Map(plan.ranges.map((r) => [r.partition, r.start]));
  let finish!: (complete: boolean) => void;
  const done = new Promise<boolean>((resolve) => (finish = resolve));
  const onAbort = () => finish(false);
  signal.addEventListener("abort", onAbort, { once: true });
  const reached = (partition: number, lastOffset: string) => {
    const range = pending.get(partition);
    if (!range || BigInt(lastOffset) < range.end - 1n) return;
    pending.delete(partition);
    consumer.pause([{ topic: plan.topic, partitions: [partition] }]);
    if (pending.size === 0) finish(true);
  };
  // A fetch that holds only aborted records or transaction markers never reaches eachBatch; kafkajs still reports it here.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === plan.topic && payload.batchSize === 0) reached(payload.partition, String(payload.lastOffset));
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: plan.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      // `heartbeat` lets an onMessage that waits on a slow reader (a download) keep the group membership.
      eachBatch: async ({ batch, isRunning, heartbeat }) => {
        const range = pending.get(batch.partition);
        if (!range) return;
        for (const m of batch.messages) {
          if (!isRunning() || signal.aborted) return;
          const offset = BigInt(m.offset);
          if (offset < (next.get(batch.partition) as bigint) || offset >= range.end) continue;
          await onMessage({ partition: batch.partition, offset: m.offset, timestamp: Number(m.timestamp), key: m.key ?? null, value: m.value, headers: m.headers ?? {} }, { heartbeat });
          next.set(batch.partition, offset + 1n);
        }
        // lastOffset() counts transaction markers too, so a range ending in a commit marker still completes.
        reached(batch.partition, batch.lastOffset());
      },
    });
    const all = await withAdmin((a) => a.fetchTopicOffsets(plan.topic));
    const idle = all.map((o) => o.partition).filter((p) => !pending.has(p));
    if (idle.length > 0) consumer.pause([{ topic: plan.topic, partitions: idle }]);
    for (const r of plan.ranges) consumer.seek({ topic: plan.topic, partition: r.partition, offset: r.start.toString() });
    return { complete: await done };
  } finally {
    signal.removeEventListener("abort", onAbort);
    await consumer.disconnect().catch(() => {});
  }
}
