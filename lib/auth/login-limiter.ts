import { processShared } from "./shared-state";

/**
 * Brakes on guessing the console token through POST /api/auth/login.
 *
 * Per client (lib/auth/client-address.ts): the first FREE_FAILURES failures
 * cost nothing, then each further one blocks the client for 1 s, 2 s, 4 s…
 * up to 5 min; a success clears the client. Per process: a budget of failures
 * that refills slowly, because without a trusted proxy a client can name itself
 * anew in X-Forwarded-For for every attempt, and the per-client brake alone
 * would then never engage. Either refusal is a 429 with Retry-After.
 *
 * An attempt is counted as a failure when it starts and refunded when it
 * succeeds, so parallel guesses cannot all pass before the first is counted.
 */
export interface LimiterOptions {
  /** Failures a client may make before any wait: typos happen. */
  freeFailures: number;
  /** First wait after the free failures; doubles with each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Failures the whole console may take in a burst… */
  globalBurst: number;
  /** …and one more each this many ms: 30 per minute, ~43k a day, hopeless against a random token yet never in an operator's way. */
  globalRefillMs: number;
  /** Clients remembered at most (the oldest is forgotten first): a spoofing client must not grow the map without end. */
  maxClients: number;
  /** A client's failures are forgotten this long after its last one. */
  forgetAfterMs: number;
}

export const LOGIN_LIMITS: LimiterOptions = {
  freeFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 5 * 60_000,
  globalBurst: 30,
  globalRefillMs: 2000,
  maxClients: 10_000,
  forgetAfterMs: 60 * 60_000,
};

interface ClientState {
  failures: number;
  blockedUntil: number;
  lastFailure: number;
}

export type Attempt =
  | { ok: true; /** The token was right: clears the client and refunds the budget. */ succeeded(): void }
  | { ok: false; scope: "client" | "global"; retryAfterSec: number };

export class LoginLimiter {
  private readonly clients = new Map<string, ClientState>();
  private budget: number;
  private budgetAt: number;

  constructor(
    private readonly opts: LimiterOptions = LOGIN_LIMITS,
    nowMs = Date.now(),
  ) {
    this.budget = opts.globalBurst;
    this.budgetAt = nowMs;
  }

  /** Start a login attempt from `client`: refused while the client or the console is over its limit. */
  begin(client: string, nowMs = Date.now()): Attempt {
    this.refill(nowMs);
    const state = this.client(client, nowMs);
    if (state && nowMs < state.blockedUntil) return { ok: false, scope: "client", retryAfterSec: Math.ceil((state.blockedUntil - nowMs) / 1000) };
    if (this.budget < 1) return { ok: false, scope: "global", retryAfterSec: Math.ceil(((1 - this.budget) * this.opts.globalRefillMs) / 1000) };
    this.budget -= 1;
    const next: ClientState = { failures: (state?.failures ?? 0) + 1, blockedUntil: 0, lastFailure: nowMs };
    const over = next.failures - this.opts.freeFailures;
    if (over > 0) next.blockedUntil = nowMs + Math.min(this.opts.baseDelayMs * 2 ** Math.min(over - 1, 30), this.opts.maxDelayMs);
    this.remember(client, next);
    let settled = false;
    return {
      ok: true,
      succeeded: () => {
        if (settled) return;
        settled = true;
        this.clients.delete(client);
        this.budget = Math.min(this.opts.globalBurst, this.budget + 1);
      },
    };
  }

  /** Failures counted against `client` now (0 when forgotten). */
  failures(client: string, nowMs = Date.now()): number {
    return this.client(client, nowMs)?.failures ?? 0;
  }

  private client(client: string, nowMs: number): ClientState | undefined {
    const state = this.clients.get(client);
    if (state && nowMs - state.lastFailure > this.opts.forgetAfterMs && nowMs >= state.blockedUntil) {
      this.clients.delete(client);
      return undefined;
    }
    return state;
  }

  private remember(client: string, state: ClientState) {
    this.clients.delete(client); // re-inserted last: the Map's order is the forgetting order
    this.clients.set(client, state);
    while (this.clients.size > this.opts.maxClients) this.clients.delete(this.clients.keys().next().value!);
  }

  private refill(nowMs: number) {
    const elapsed = Math.max(0, nowMs - this.budgetAt);
    this.budget = Math.min(this.opts.globalBurst, this.budget + elapsed / this.opts.globalRefillMs);
    this.budgetAt = nowMs;
  }
}

/** The process's limiter (on globalThis, so a re-bundled module in dev keeps counting). */
export function loginLimiter(): LoginLimiter {
  return processShared("loginLimiter", () => new LoginLimiter());
}
