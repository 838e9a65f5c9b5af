import type { Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { RawEnv } from "../config/env";
import { loadOrExit } from "../config/load";
import { createLogger, type Logger } from "../log";
import { isOutage } from "../kafka/errors";

/** The two settings every worker's config carries (LOG_LEVEL, SHUTDOWN_TIMEOUT_SEC). */
export interface ProcessSettings {
  logLevel: string;
  shutdownTimeoutMs: number;
}

// Start-up retries back off as the launcher's restarts do: 1 s doubling to 30 s.
const RETRY_FIRST_MS = 1_000;
const RETRY_CAP_MS = 30_000;

export interface StartOptions {
  /** Which failures to retry; default `isOutage`. */
  transient?: (err: unknown) => boolean;
  /** Called before each wait, e.g. to say in /health what start-up is waiting for. */
  onRetry?: (err: unknown) => void;
}

type Closer = { what: string; close: () => unknown };

/**
 * One lifecycle for every worker process: config → listen → start → signals →
 * shutdown deadline → close.
 *
 *   const proc = beginProcess("reddb");            // signal and crash handlers, first line
 *   const cfg = proc.configure(parseReddbServerConfig); // bad value: one line, exit 2
 *   await proc.listen(server, cfg.port, cfg.host);  // closed at stop, after what starts later
 *   proc.onStop("store", () => store.close());      // closers run in reverse order
 *   proc.start("consumer", async () => { … });      // transient failures retried with backoff
 *
 * SIGTERM/SIGINT start a graceful stop (exit 0) bounded by SHUTDOWN_TIMEOUT_SEC
 * (exit 1 past it). An uncaught exception or unhandled rejection is logged and
 * the process exits 1 at once: its state is unknown, and the launcher restarts it.
 */
export class WorkerProcess {
  private logger: Logger | undefined;
  private readonly closers: Closer[] = [];
  private readonly stopController = new AbortController();
  private shutdownTimeoutMs = 15_000;
  private stopped: Promise<never> | undefined;

  constructor(readonly name: string) {
    process.on("SIGTERM", () => void this.stop("SIGTERM"));
    process.on("SIGINT", () => void this.stop("SIGINT"));
    process.on("uncaughtException", (err) => this.crash("uncaught exception", err));
    process.on("unhandledRejection", (reason) => this.crash("unhandled rejection", reason));
  }

  /** The process's logger; before `configure()` a default one at info level. */
  get log(): Logger {
    return (this.logger ??= createLogger(this.name));
  }

  /** Aborted when the stop begins: waits and retries give up. */
  get signal(): AbortSignal {
    return this.stopController.signal;
  }

  get stopping(): boolean {
    return this.stopped !== undefined;
  }

  /** Parse the process's config once; a bad value ends it with one line naming the variable (exit 2). */
  configure<C extends ProcessSettings>(parse: (env: RawEnv) => C): C {
    const cfg = loadOrExit(parse);
    this.shutdownTimeoutMs = cfg.shutdownTimeoutMs;
    this.logger = createLogger(this.name, cfg.logLevel);
    return cfg;
  }

  /** A start-up check failed for a reason an operator must fix: one line, exit 2, as a config error. */
  refuse(line: string): never {
    process.stderr.write(`embedline: ${line}\n`);
    process.exit(2);
  }

  /** Register something to close at stop. Closers run in reverse order of registration, each awaited. */
  onStop(what: string, close: () => unknown): void {
    this.closers.push({ what, close });
  }

  /**
   * Listen; the server is closed at stop (after everything registered later),
   * in-flight requests answered. A port that cannot be bound ends the process (exit 1).
   */
  listen(server: Server, port: number, host: string): Promise<void> {
    server.on("error", (err) => this.fail(err, `HTTP server on ${host}:${port}`));
    this.onStop("http server", () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      return closed;
    });
    return new Promise((resolve) =>
      server.listen(port, host, () => {
        this.log.info({ host, port }, "listening");
        resolve();
      }),
    );
  }

  /**
   * Run a start-up step. A transient failure (broker or upstream unreachable,
   * timeouts) is logged and retried with capped exponential backoff until it
   * succeeds or the process stops; any other failure stops the process (exit 1).
   * Resolves true once `fn` succeeded, false when the process stopped first.
   */
  async start(what: string, fn: () => Promise<void>, opts: StartOptions = {}): Promise<boolean> {
    const transient = opts.transient ?? isOutage;
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) return false;
      try {
        await fn();
        return true;
      } catch (err) {
        if (this.stopping) return false;
        if (!transient(err)) {
          this.fail(err, what);
          return false;
        }
        const delayMs = Math.min(RETRY_CAP_MS, RETRY_FIRST_MS * 2 ** (attempt - 1));
        this.log.warn({ err: describe(err), attempt, retryInMs: delayMs }, `${what} failed to start; retrying`);
        opts.onRetry?.(err);
        const woke = await sleep(delayMs, true, { signal: this.signal }).catch(() => false);
        if (!woke) return false;
      }
    }
  }

  /** The process cannot go on: log why and stop with exit 1 (the launcher restarts it). */
  fail(err: unknown, what: string): void {
    this.log.fatal({ err: describe(err) }, `${what} failed; stopping`);
    void this.stop(`${what} failed`, 1);
  }

  /** Graceful stop, once: closers in reverse order, bounded by the shutdown deadline, then exit. */
  stop(reason: string, code = 0): Promise<never> {
    if (this.stopped) {
      this.log.info({ reason }, "already stopping");
      return this.stopped;
    }
    this.stopped = (async () => {
      this.log.info({ reason }, "stopping");
      const deadline = setTimeout(() => {
        this.log.error({ timeoutMs: this.shutdownTimeoutMs }, "shutdown timed out; exiting");
        process.exit(1);
      }, this.shutdownTimeoutMs);
      deadline.unref();
      this.stopController.abort(new Error("shutting down"));
      for (const { what, close } of this.closers.reverse()) {
        try {
          await close();
        } catch (err) {
          // Whatever did not close cleanly is recovered at the next start (uncommitted work comes again).
          this.log.warn({ err: describe(err), what }, "close failed");
        }
      }
      this.log.info({ code }, "stopped");
      process.exit(code);
    })();
    return this.stopped;
  }

  private crash(kind: string, err: unknown): void {
    try {
      this.log.fatal({ err: describe(err, true) }, `${kind}; exiting`);
    } finally {
      process.exit(1);
    }
  }
}

/** Install the process's signal and crash handlers: call it on the first line of a worker's index.ts. */
export function beginProcess(name: string): WorkerProcess {
  return new WorkerProcess(name);
}

function describe(err: unknown, withStack = false): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  return { name: err.name, message: err.message, ...(withStack ? { stack: err.stack } : {}) };
}
