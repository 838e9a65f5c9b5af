import { percentile } from "../metrics/stage-window";

/**
 * Which of several instances of one embedding service takes the next call,
 * and which are out of rotation. No I/O of its own: the client says when a
 * call starts and how it ended, and gives the probe that asks an ejected
 * instance whether it answers again. Time comes from `clock`, so tests drive
 * ejection and return on a fake clock.
 *
 *  - Least outstanding: a call goes to the instance with the fewest calls in
 *    flight; ties go round-robin (a cursor moves past each pick), so equal
 *    instances share an idle stream evenly.
 *  - Ejection: a connection error, timeout or 5xx takes an instance out of
 *    rotation at once (one failure: the retry must not land on it again), and
 *    probes it after PROBE_FIRST_MS, doubling up to PROBE_MAX_MS, until one
 *    probe succeeds. Any call it answers while ejected also brings it back.
 *  - Panic: with every instance ejected, calls go to all of them again (as
 *    Envoy's panic threshold does), so one instance or a whole outage behaves
 *    as a single upstream did: the caller's retries and backoff wait it out.
 */

/** First probe of an ejected instance: a process killed and restarted by a supervisor is back within seconds. */
export const PROBE_FIRST_MS = 1_000;
/** Longest gap between probes: an instance back from a long outage rejoins within half a minute. */
export const PROBE_MAX_MS = 30_000;
/** Round trips kept per instance for p50/p99: the newest 512, bounded memory at any rate. */
const LATENCY_SAMPLES = 512;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A pending probe must not keep a process alive that is otherwise done.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface UpstreamSnapshot {
  url: string;
  state: "up" | "ejected";
  /** Calls in flight now. */
  outstanding: number;
  /** Calls sent (probes not counted). */
  requests: number;
  /** Calls that failed for the instance's sake: connection error, timeout, 429, 5xx. */
  failures: number;
  /** Times it was taken out of rotation. */
  ejections: number;
  /** Round trips of its newest answered calls; null before the first. */
  p50_ms: number | null;
  p99_ms: number | null;
}

export interface Upstream<T> {
  readonly index: number;
  readonly url: string;
  readonly target: T;
}

interface Entry<T> extends Upstream<T> {
  state: "up" | "ejected";
  outstanding: number;
  requests: number;
  failures: number;
  ejections: number;
  latencies: number[];
  latencyHead: number;
  probeDelayMs: number;
  probeTimer: unknown;
  probing: boolean;
}

export interface BalancerOptions<T> {
  /** Resolves true when the instance answers again; false (or a rejection) keeps it out. */
  probe: (target: T, url: string) => Promise<boolean>;
  clock?: Clock;
  probeFirstMs?: number;
  probeMaxMs?: number;
  /** Told when an instance leaves or rejoins the rotation (for a log line). */
  onChange?: (url: string, state: "up" | "ejected", why: string) => void;
}

export class Balancer<T> {
  private readonly entries: Entry<T>[];
  private readonly clock: Clock;
  private cursor = 0;
  private closed = false;

  constructor(
    upstreams: { url: string; target: T }[],
    private readonly opts: BalancerOptions<T>,
  ) {
    if (upstreams.length === 0) throw new Error("a balancer needs at least one upstream");
    this.clock = opts.clock ?? realClock;
    this.entries = upstreams.map((u, index) => ({
      ...u,
      index,
      state: "up",
      outstanding: 0,
      requests: 0,
      failures: 0,
      ejections: 0,
      latencies: [],
      latencyHead: 0,
      probeDelayMs: 0,
      probeTimer: undefined,
      probing: false,
    }));
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * The instance for the next call: among those in rotation (all of them when
   * none is), preferring one not in `tried` (the instances this call already
   * failed on), the fewest calls in flight, ties round-robin. Changes nothing:
   * `start` it to send the call there.
   */
  choose(tried: ReadonlySet<number> = new Set()): Upstream<T> {
    const up = this.entries.filter((e) => e.state === "up");
    const pool = up.length > 0 ? up : this.entries;
    const fresh = pool.filter((e) => !tried.has(e.index));
    const candidates = fresh.length > 0 ? fresh : pool;
    const least = Math.min(...candidates.map((e) => e.outstanding));
    const tied = candidates.filter((e) => e.outstanding === least);
    const n = this.entries.length;
    // The first tied instance at or after the cursor, cyclically.
    return tied.reduce((best, e) => ((e.index - this.cursor + n) % n < (best.index - this.cursor + n) % n ? e : best));
  }

  /** A call goes to `u` (the round-robin cursor moves past it): end it with `succeeded`, `failed` or `released`. */
  start(u: Upstream<T>): void {
    const e = this.entries[u.index]!;
    this.cursor = (u.index + 1) % this.entries.length;
    e.outstanding++;
    e.requests++;
  }

  /** `choose` then `start`. */
  acquire(tried?: ReadonlySet<number>): Upstream<T> {
    const u = this.choose(tried);
    this.start(u);
    return u;
  }

  /** Every instance's target, in the configured order. */
  targets(): T[] {
    return this.entries.map((e) => e.target);
  }

  /** The call answered (2xx, or a 4xx about the request): the instance works. */
  succeeded(u: Upstream<T>, rttMs: number): void {
    const e = this.entries[u.index]!;
    e.outstanding--;
    if (e.latencies.length < LATENCY_SAMPLES) e.latencies.push(rttMs);
    else e.latencies[e.latencyHead] = rttMs;
    e.latencyHead = (e.latencyHead + 1) % LATENCY_SAMPLES;
    if (e.state === "ejected") this.reinstate(e, "answered a call");
  }

  /** The call failed for the instance's sake; `ejects` (connection error, timeout, 5xx) takes it out of rotation. */
  failed(u: Upstream<T>, ejects: boolean, why: string): void {
    const e = this.entries[u.index]!;
    e.outstanding--;
    e.failures++;
    if (ejects && e.state === "up") this.eject(e, why);
  }

  /** The call ended without saying anything about the instance (the caller gave up: shutdown). */
  released(u: Upstream<T>): void {
    this.entries[u.index]!.outstanding--;
  }

  snapshot(): UpstreamSnapshot[] {
    return this.entries.map((e) => {
      const sorted = Float64Array.from(e.latencies).sort();
      return {
        url: e.url,
        state: e.state,
        outstanding: e.outstanding,
        requests: e.requests,
        failures: e.failures,
        ejections: e.ejections,
        p50_ms: round(percentile(sorted, 50)),
        p99_ms: round(percentile(sorted, 99)),
      };
    });
  }

  /** Stops probing; the balancer is not used after. */
  close(): void {
    this.closed = true;
    for (const e of this.entries) {
      if (e.probeTimer !== undefined) this.clock.clearTimeout(e.probeTimer);
      e.probeTimer = undefined;
    }
  }

  private eject(e: Entry<T>, why: string) {
    e.state = "ejected";
    e.ejections++;
    e.probeDelayMs = this.opts.probeFirstMs ?? PROBE_FIRST_MS;
    this.opts.onChange?.(e.url, "ejected", why);
    this.scheduleProbe(e);
  }

  private reinstate(e: Entry<T>, why: string) {
    e.state = "up";
    if (e.probeTimer !== undefined) this.clock.clearTimeout(e.probeTimer);
    e.probeTimer = undefined;
    this.opts.onChange?.(e.url, "up", why);
  }

  private scheduleProbe(e: Entry<T>) {
    if (this.closed || e.probeTimer !== undefined || e.probing) return;
    e.probeTimer = this.clock.setTimeout(() => {
      e.probeTimer = undefined;
      void this.runProbe(e);
    }, e.probeDelayMs);
  }

  private async runProbe(e: Entry<T>) {
    if (this.closed || e.state === "up") return;
    e.probing = true;
    let ok = false;
    try {
      ok = await this.opts.probe(e.target, e.url);
    } catch {
      ok = false;
    } finally {
      e.probing = false;
    }
    // A call it answered meanwhile may have brought it back already.
    if (this.closed || isUp(e)) return;
    if (ok) {
      this.reinstate(e, "answered a probe");
      return;
    }
    e.probeDelayMs = Math.min(e.probeDelayMs * 2, this.opts.probeMaxMs ?? PROBE_MAX_MS);
    this.scheduleProbe(e);
  }
}

const isUp = (e: { state: "up" | "ejected" }) => e.state === "up";
const round = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);
