import "server-only";
import { consoleConfig, type ConsoleConfig } from "@/lib/config/console";
import { redactUrl } from "@/lib/config/redact";
import { describeProbeError, type HealthComponent } from "@/lib/health/probe";
import type { z } from "zod";
import { describeIndexers } from "@/lib/kafka/indexer-group";
import type { Answered, InstanceOutcome } from "@/lib/knn/scatter";
import { UpstreamError, upstreamJson } from "./http";
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
  /** Partitions of EMBED_OUTPUT_TOPIC; 0 when unknown (the group could not be read and never was). */
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
/** One cache per parsed configuration (the console has one; tests build their own). */
const cache = (cfg: ConsoleConfig): Cache => {
  const g = globalThis as { [KEY]?: WeakMap<ConsoleConfig, Cache> };
  g[KEY] ??= new WeakMap();
  let c = g[KEY].get(cfg);
  if (!c) g[KEY].set(cfg, (c = {}));
  return c;
};

/** INDEXER_URL as the only instance, its partitions unknown. */
function fallback(cfg: ConsoleConfig): IndexerSet {
  const url = cfg.indexerUrl.replace(/\/+$/, "");
  return { instances: [{ instance: url, url, partitions: [] }], topicPartitions: 0, source: "fallback" };
}

/** What to use without a fresh read: the last good one, else INDEXER_URL. */
function standIn(c: Cache, cfg: ConsoleConfig): IndexerSet {
  return c.last ? { ...c.last.set, source: "stale" } : fallback(cfg);
}

async function readGroup(c: Cache, cfg: ConsoleConfig): Promise<IndexerSet> {
  try {
    const view = await describeIndexers(kafka(), cfg.indexerGroup, cfg.topics.embeddings);
    if (view.instances.length === 0) {
      // A rebalance (an indexer joining, or restarted after kill -9 and waiting out its dead member's
      // session) hides every member's metadata, though the indexers still answer for what they hold:
      // the last read names them. With none, or no indexer in the group, INDEXER_URL is the best guess.
      // Either way the topic's size is known, so whatever the answers do not cover is named in `partial`.
      const rebalancing = view.state === "PreparingRebalance" || view.state === "CompletingRebalance";
      c.current = rebalancing && c.last ? { ...c.last.set, topicPartitions: view.partitions, source: "stale" } : { ...fallback(cfg), topicPartitions: view.partitions };
      return c.current;
    }
    const set: IndexerSet = { instances: view.instances.map((i) => ({ instance: i.instance, url: i.url.replace(/\/+$/, ""), partitions: i.partitions })), topicPartitions: view.partitions, source: "group" };
    c.last = { set, at: Date.now() };
    c.current = set;
    return set;
  } catch (err) {
    log().warn({ err: { name: (err as Error).name, message: (err as Error).message } }, "could not read the indexer group; using the last known indexers");
    c.current = standIn(c, cfg);
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
export async function indexerSet(cfg: ConsoleConfig = consoleConfig()): Promise<IndexerSet> {
  const c = cache(cfg);
  const now = Date.now();
  if (c.current && c.triedAt !== undefined && now - c.triedAt < DISCOVERY_TTL_MS && !c.pending) return c.current;
  c.pending ??= readGroup(c, cfg);
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<IndexerSet>((resolve) => {
    timer = setTimeout(() => resolve(standIn(c, cfg)), DISCOVERY_WAIT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([c.pending, waited]);
  } finally {
    clearTimeout(timer);
  }
}


/** One call to one instance: its body, or why not. */
export interface Call<T> {
  ok: boolean;
  body?: T;
  err?: unknown;
  /** The deadline ended it (not the client going away). */
  timedOut: boolean;
  tookMs: number;
}

const ms = (since: number) => Math.round((performance.now() - since) * 1000) / 1000;

/** One call to one instance under `timeoutMs`, never throwing. */
export async function callIndexer<T>(target: IndexerTarget, path: string, req: { method: "GET" | "POST"; body?: unknown }, timeoutMs: number, signal: AbortSignal): Promise<Call<T>> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const started = performance.now();
  try {
    // upstreamJson's own deadline is a backstop behind ours, so ours is the one that tells a timeout.
    const res = await upstreamJson<T>(`${target.url}${path}`, { ...req, signal: AbortSignal.any([signal, deadline]), timeoutMs: timeoutMs + 1_000 });
    return { ok: true, body: res.body, timedOut: false, tookMs: ms(started) };
  } catch (err) {
    return { ok: false, err, timedOut: deadline.aborted && !signal.aborted, tookMs: ms(started) };
  }
}

/** One line for an instance's failure; never the upstream's internals. */
export function failureText(call: Call<unknown>): string {
  const e = call.err;
  if (call.timedOut) return "timed out";
  if (e instanceof UpstreamError) {
    if (e.kind === "unreachable") return "unreachable";
    const code = (e.body as { error?: { code?: unknown } } | null)?.error?.code;
    return `HTTP ${e.status}${typeof code === "string" ? ` ${code}` : ""}`;
  }
  return "answered in an unexpected shape";
}

/** Each instance's call as the merge reads it: its answer parsed with `schema`, or how it failed. */
export function outcomesOf<A extends Answered>(set: IndexerSet, calls: Call<unknown>[], schema: z.ZodType<A>): InstanceOutcome<A>[] {
  return calls.map((call, i) => {
    const t = set.instances[i]!;
    const parsed = call.ok ? schema.safeParse(call.body) : null;
    // Shown in answers and pages: an advertised URL (or an instance id that is one) never with credentials.
    const [instance, url] = [redactUrl(t.instance), redactUrl(t.url)];
    if (parsed?.success) return { instance, url, assigned: t.partitions, result: { ok: true as const, answer: { ...parsed.data, ...(parsed.data.instance !== undefined ? { instance: redactUrl(parsed.data.instance) } : {}) }, tookMs: call.tookMs } };
    return {
      instance,
      url,
      assigned: t.partitions,
      result: { ok: false as const, kind: call.timedOut ? ("timeout" as const) : ("failed" as const), error: failureText(call), tookMs: call.timedOut ? null : call.tookMs },
    };
  });
}

/** GET `path` of every instance at once, each under `timeoutMs`. */
export async function askEveryIndexer<A extends Answered>(set: IndexerSet, path: string, schema: z.ZodType<A>, timeoutMs: number, signal: AbortSignal): Promise<InstanceOutcome<A>[]> {
  const calls = await Promise.all(set.instances.map((t) => callIndexer<unknown>(t, path, { method: "GET" }, timeoutMs, signal)));
  return outcomesOf(set, calls, schema);
}

/**
 * The Health page's `indexer` row: every instance of the group probed at once
 * with `perInstance` (the worker probe: a degraded instance counts as down),
 * down when any is, naming which; the detail lists each one's.
 */
export function indexerGroupComponent(cfg: ConsoleConfig, perInstance: (healthUrl: string) => HealthComponent): HealthComponent {
  return {
    name: "indexer",
    kind: "http",
    target: `${cfg.indexerGroup} group (else ${redactUrl(cfg.indexerUrl)})`,
    probe: async (signal) => {
      const set = await indexerSet(cfg);
      const results = await Promise.allSettled(set.instances.map((t) => perInstance(`${t.url}/health`).probe(signal)));
      const one = set.instances.length === 1;
      const down = results.flatMap((r, i) => (r.status === "rejected" ? [{ instance: set.instances[i]!.instance, why: describeProbeError(r.reason, cfg.healthTimeoutMs, signal.aborted) }] : []));
      if (down.length > 0) throw new Error(one ? down[0]!.why : `${down.length} of ${set.instances.length} indexers down (${down.map((d) => `${d.instance}: ${d.why}`).join("; ")})`);
      const details = results.map((r) => (r.status === "fulfilled" ? (r.value?.detail ?? null) : null));
      if (one) return { detail: details[0] };
      return { detail: `${set.instances.length} indexers: ${set.instances.map((t, i) => `${t.instance}${details[i] ? ` ${details[i]}` : ""}`).join(" · ")}` };
    },
  };
}
