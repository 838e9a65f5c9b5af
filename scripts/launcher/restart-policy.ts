/**
 * When to restart a process of the stack that exited on its own, and when to
 * give up. Pure: time comes in as an argument, so the policy is unit-tested
 * without clocks (tests/unit/launcher-restart-policy.test.ts).
 *
 * - Backoff: the first restart after a stable run waits `initialDelayMs`, each
 *   further one twice as long, capped at `maxDelayMs`.
 * - A run that lasted `stableAfterMs` or more resets the backoff: a process that
 *   crashes once a day is restarted after 1 s every time.
 * - Crash loop: more than `crashLoopRestarts` exits within `crashLoopWindowMs`
 *   (a sliding window) means restarting does not help; the launcher stops the stack.
 */
export interface RestartPolicyConfig {
  initialDelayMs: number;
  maxDelayMs: number;
  stableAfterMs: number;
  crashLoopRestarts: number;
  crashLoopWindowMs: number;
}

/** 1 s doubling to 30 s, reset after a stable minute: docker's restart policy does about the same. */
export const defaultBackoff = { initialDelayMs: 1_000, maxDelayMs: 30_000, stableAfterMs: 60_000 } as const;

export type RestartDecision =
  | { action: "restart"; delayMs: number; /** 1 for the first restart of a streak. */ attempt: number }
  | { action: "give-up"; /** Exits counted within the window, this one included. */ exitsInWindow: number };

export interface RestartPolicy {
  /** The process (re)started at `now`. */
  started(now: number): void;
  /** The process exited on its own at `now`: restart it after a delay, or give up. */
  exited(now: number): RestartDecision;
}

export function restartPolicy(cfg: RestartPolicyConfig): RestartPolicy {
  let startedAt: number | undefined;
  let streak = 0;
  const exits: number[] = [];
  return {
    started(now) {
      startedAt = now;
    },
    exited(now) {
      if (startedAt !== undefined && now - startedAt >= cfg.stableAfterMs) streak = 0;
      startedAt = undefined;
      exits.push(now);
      while (exits.length > 0 && exits[0]! <= now - cfg.crashLoopWindowMs) exits.shift();
      if (exits.length > cfg.crashLoopRestarts) return { action: "give-up", exitsInWindow: exits.length };
      streak++;
      const delayMs = Math.min(cfg.maxDelayMs, cfg.initialDelayMs * 2 ** Math.min(streak - 1, 30));
      return { action: "restart", delayMs, attempt: streak };
    },
  };
}
