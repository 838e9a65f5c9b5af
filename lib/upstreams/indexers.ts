import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { describeIndexers } from "@/lib/kafka/indexer-group";
import { kafka } from "./kafka";
import { consoleLog } from "./log";

const log = consoleLog("indexers");

/** One emb-indexer the console asks: its id in the group, where it answers, the partitions the group gave it. */
export interface IndexerTarget {
  instance: string;
  url: string;
  partitions: number[];
}

export interface IndexerSet {
  instances: IndexerTarget[];
  /** Partitions of EMBED_OUTPUT_TOPIC; 0 when unknown (the group could not be read, or INDEXER_URL stands in). */
  topicPartitions: number;
  /** group: read just now; stale: the last good read (Kafka did not answer); fallback: INDEXER_URL alone. */
  source: "group" | "stale" | "fallback";
}

/**
 * How long one read of the group serves: queries, shard stats and the
 * indexer stream all ask, and a rebalance shows within this long. 3 s is the
 * indexer stream's poll interval: each poll sees a fresh read.
 */
export const DISCOVERY_TTL_MS = 3_000;
/**
 * How long a caller waits for a read under way before it goes on with the
 * last one (or INDEXER_URL): Kafka being away must not hold every query for
 * the client's connection timeout. The read carries on and serves the next caller.
 */
export const DISCOVERY_WAIT_MS = 1_500;

interface Cache {
  /** The last good read of the group. */
  last?: { set: IndexerSet; at: number };
  /** What the last read gave callers (the good read, or its stand-in). */
  current?: IndexerSet;
  /** When the last read (good or not) ended: a failing Kafka is asked at most once per TTL. */
  triedAt?: number;
  pending?: Promise<IndexerSet>;
}
const KEY = Symbol.for("embedline.upstreams.indexers");
const cache = (): Cache => {
  const g = globalThis as { [KEY]?: Cache };
  g[KEY] ??= {};
  return g[KEY];
};

/** INDEXER_URL as the only instance, its partitions unknown. */
function fallback(): IndexerSet {
  const url = consoleConfig().indexerUrl.replace(/\/+$/, "");
  return { instances: [{ instance: url, url, partitions: [] }], topicPartitions: 0, source: "fallback" };
}

/** What to use without a fresh read: the last good one, else INDEXER_URL. */
function standIn(c: Cache): IndexerSet {
  return c.last ? { ...c.last.set, source: "stale" } : fallback();
}

async function readGroup(c: Cache): Promise<IndexerSet> {
  const cfg = consoleConfig();
  try {
    const view = await describeIndexers(kafka(), cfg.indexerGroup, cfg.topics.embeddings);
    // No member advertises an address (none runs, or all predate the group metadata): INDEXER_URL is the best guess.
    const set: IndexerSet =
      view.instances.length === 0
        ? fallback()
        : { instances: view.instances.map((i) => ({ instance: i.instance, url: i.url.replace(/\/+$/, ""), partitions: i.partitions })), topicPartitions: view.partitions, source: "group" };
    c.last = { set, at: Date.now() };
    c.current = set;
    return set;
  } catch (err) {
    log().warn({ err: { name: (err as Error).name, message: (err as Error).message } }, "could not read the indexer group; using the last known indexers");
    c.current = standIn(c);
    return c.current;
  } finally {
    c.triedAt = Date.now();
    c.pending = undefined;
  }
}

/**
 * The emb-indexers to ask, from INDEXER_GROUP's member metadata, read at most
 * once per DISCOVERY_TTL_MS per console process (one read in flight, shared).
 * On Kafka trouble: the last good read; with none, INDEXER_URL alone.
 */
export async function indexerSet(): Promise<IndexerSet> {
  const c = cache();
  const now = Date.now();
  if (c.current && c.triedAt !== undefined && now - c.triedAt < DISCOVERY_TTL_MS && !c.pending) return c.current;
  c.pending ??= readGroup(c);
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<IndexerSet>((resolve) => {
    timer = setTimeout(() => resolve(standIn(c)), DISCOVERY_WAIT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([c.pending, waited]);
  } finally {
    clearTimeout(timer);
  }
}

/** Forget the cached read (tests). */
export function resetIndexerSet(): void {
  const c = cache();
  c.last = undefined;
  c.current = undefined;
  c.triedAt = undefined;
}
