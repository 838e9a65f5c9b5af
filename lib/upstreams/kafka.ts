import "server-only";
import type { Admin, IHeaders, Kafka, Producer } from "kafkajs";
import { consoleConfig } from "@/lib/config/console";
import { createKafka } from "@/lib/kafka/client";
import { OFFSET_OUT_OF_RANGE, PartitionFetchError, fetchPartition, type FetchPurpose } from "@/lib/kafka/partition-fetch";
import { createLogger } from "@/lib/log";

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
 * Read the planned ranges as a read_committed consumer would, with plain
 * fetches from each range's start (lib/kafka/partition-fetch.ts: no consumer
 * group, nothing committed, never waiting for data), partitions in parallel;
 * `onMessage` gets each record in offset order per partition (aborted
 * transactions and markers are skipped) and may wait: the next fetch waits
 * with it. Ends when every range is read, or on `signal` (the answer then
 * says the read was not complete). A range whose start retention has removed
 * meanwhile is read from the partition's new start. `purpose`: the console's
 * pollers read over connections of their own (`poll`).
 */
export async function readRanges(plan: ReadPlan, onMessage: (m: ReadMessage) => void | Promise<void>, signal: AbortSignal, purpose: FetchPurpose = "request"): Promise<{ complete: boolean }> {
  if (plan.ranges.length === 0) return { complete: true };
  // One partition's failure stops the others: the read fails as a whole.
  const failed = new AbortController();
  const stop = AbortSignal.any([signal, failed.signal]);
  const reads = plan.ranges.map((range) =>
    readRange(plan.topic, range, onMessage, stop, purpose).catch((err: unknown) => {
      failed.abort();
      throw err;
    }),
  );
  const done = await Promise.all(reads);
  return { complete: done.every(Boolean) };
}

async function readRange(topic: string, { partition, start, end }: ReadPlan["ranges"][number], onMessage: (m: ReadMessage) => void | Promise<void>, signal: AbortSignal, purpose: FetchPurpose): Promise<boolean> {
  const k = kafka();
  let offset = start;
  while (offset < end) {
    if (signal.aborted) return false;
    let got;
    try {
      got = await fetchPartition(k, purpose, topic, partition, offset);
    } catch (err) {
      if (!(err instanceof PartitionFetchError && err.code === OFFSET_OUT_OF_RANGE)) throw err;
      const low = await logStart(topic, partition);
      if (low <= offset) throw err;
      offset = low;
      continue;
    }
    for (const r of got.records) {
      if (BigInt(r.offset) >= end) return true;
      if (signal.aborted) return false;
      await onMessage({ partition, offset: r.offset, timestamp: Number(r.timestamp), key: r.key, value: r.value, headers: r.headers });
    }
    // Nothing more is readable now: the end, or an open transaction before it.
    if (got.next === offset) return offset >= got.lastStable;
    offset = got.next;
  }
  return true;
}

async function logStart(topic: string, partition: number): Promise<bigint> {
  const offsets = await withAdmin((a) => a.fetchTopicOffsets(topic));
  return BigInt(offsets.find((o) => o.partition === partition)?.low ?? "0");
}
