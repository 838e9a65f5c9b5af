import { spawn } from "node:child_process";
import readline from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "../../lib/log";
import { describeExit, type ExitReason, type SupervisedProcessState } from "../../lib/health/supervisor-state";
import { StackError } from "../stack-error";
import type { RestartPolicy } from "./restart-policy";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One running instance of a process of the stack. */
export interface Instance {
  pid: number | undefined;
  /** Settles when the process has exited, for whatever reason. */
  exited: Promise<Exit>;
  /** Resolves once it answers its readiness check; rejects (StackError) if it exits first or never does. */
  ready: Promise<void>;
  /** Ask it to stop (SIGTERM, then SIGKILL after a bound); resolves once it is gone. Idempotent. */
  stop(): Promise<unknown>;
}

export interface StartContext {
  /** Each output line of the process. */
  onLine: (line: string) => void;
  /** Aborted when the stack stops: a start under way gives up at once. */
  signal: AbortSignal;
}

/** Starts one instance; throws (leaving nothing running) when it cannot even be spawned. */
export type Starter = (ctx: StartContext) => Promise<Instance>;

export interface CrashLoop {
  name: string;
  exit: ExitReason;
  exitsInWindow: number;
}

/** Lines of output kept per process, to log with an unexpected exit. */
export const OUTPUT_RING_LINES = 20;
/** Of those, how many an exit's log entry carries. */
const LOGGED_TAIL_LINES = 10;
const MAX_ERROR_CHARS = 240;

/**
 * The last line of `lines` most likely to say why a process died: the last
 * error-looking line (a pino error/fatal entry, an exception, "Error:"), else
 * the last line (unless `orLastLine` is false). Bounded, one line.
 */
export function lastError(lines: readonly string[], { orLastLine = true } = {}): string | null {
  const errorLike = (l: string) => /"level":(50|60)\b|\b(ERROR|FATAL|Error|Exception|EADDRINUSE|fatal)\b/.test(l);
  const line = [...lines].reverse().find(errorLike) ?? (orLastLine ? lines.at(-1) : undefined);
  if (line === undefined) return null;
  // A pino JSON line reads better as its msg and error message.
  let text = line;
  try {
    const j = JSON.parse(line) as { msg?: unknown; err?: { message?: unknown }; error?: unknown };
    const detail = typeof j.err?.message === "string" ? j.err.message : typeof j.error === "string" ? j.error : "";
    if (typeof j.msg === "string") text = detail ? `${j.msg}: ${detail}` : j.msg;
  } catch {
    // Not JSON: the line as printed.
  }
  text = text.replace(/\s+/g, " ").trim();
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}

const oneLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";

export interface ProcessSupervisorOptions {
  name: string;
  start: Starter;
  policy: RestartPolicy;
  log: Logger;
  onLine: (name: string, line: string) => void;
  /** Called after every change of `snapshot()`. */
  onChange: () => void;
  /** The process crash-loops: the launcher stops the stack. */
  onCrashLoop: (c: CrashLoop) => void;
  now?: () => number;
}

/**
 * Keeps one process of the stack running: starts it, and when it exits without
 * being asked to, logs why (exit code or signal, its last output lines) and
 * starts it again after the policy's backoff — until the policy calls it a
 * crash loop, which is reported through `onCrashLoop`.
 */
export class ProcessSupervisor {
  readonly name: string;
  private readonly opts: ProcessSupervisorOptions;
  private readonly now: () => number;
  private readonly lines: string[] = [];
  private readonly abort = new AbortController();
  private instance: Instance | undefined;
  private timer: NodeJS.Timeout | undefined;
  private restarting: Promise<void> | undefined;
  private stopping = false;
  private state: SupervisedProcessState;

  constructor(opts: ProcessSupervisorOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.now = opts.now ?? Date.now;
    this.state = { name: opts.name, state: "starting", pid: null, restarts: 0, started_ts: null, last_exit: null, next_restart_ts: null };
  }

  snapshot(): SupervisedProcessState {
    return { ...this.state };
  }

  private set(patch: Partial<SupervisedProcessState>) {
    this.state = { ...this.state, ...patch };
    this.opts.onChange();
  }

  private readonly onLine = (line: string) => {
    this.lines.push(line);
    if (this.lines.length > OUTPUT_RING_LINES) this.lines.shift();
    this.opts.onLine(this.name, line);
  };

  /** The first start, in the stack's order: resolves once ready; throws, leaving nothing running, otherwise. */
  async start(): Promise<void> {
    const inst = await this.opts.start({ onLine: this.onLine, signal: this.abort.signal });
    this.instance = inst;
    try {
      await inst.ready;
    } catch (err) {
      await inst.stop();
      this.instance = undefined;
      throw err;
    }
    this.running(inst);
  }

  private running(inst: Instance) {
    this.instance = inst;
    this.opts.policy.started(this.now());
    this.set({ state: "running", pid: inst.pid ?? null, started_ts: this.now(), next_restart_ts: null });
    void inst.exited.then((exit) => this.onExit(inst, exit));
  }

  private async onExit(inst: Instance, exit: Exit) {
    if (this.stopping || inst !== this.instance) return;
    // Ctrl-C reaches every process of the group at once: let the launcher's own
    // SIGINT handler run first, so a stop is not taken for a crash.
    await new Promise((r) => setImmediate(r));
    if (this.stopping) return;
    this.instance = undefined;
    // Killed by a signal, its last ordinary line says nothing about why: keep only an error it printed.
    this.failed({ code: exit.code, signal: exit.signal, ts: this.now(), error: lastError(this.lines, { orLastLine: exit.signal === null }) });
  }

  private failed(reason: ExitReason) {
    const { log, policy } = this.opts;
    const decision = policy.exited(reason.ts);
    const lastLines = this.lines.slice(-LOGGED_TAIL_LINES);
    const fields = { process: this.name, code: reason.code, signal: reason.signal, error: reason.error, restarts: this.state.restarts, lastLines };
    if (decision.action === "give-up") {
      this.set({ state: "crash-loop", pid: null, started_ts: null, last_exit: reason, next_restart_ts: null });
      log.error({ ...fields, exitsInWindow: decision.exitsInWindow }, `${this.name} is crash-looping; not restarting it`);
      this.opts.onCrashLoop({ name: this.name, exit: reason, exitsInWindow: decision.exitsInWindow });
      return;
    }
    log.warn({ ...fields, restartInMs: decision.delayMs }, `${this.name} exited unexpectedly (${describeExit(reason)}); restarting in ${decision.delayMs / 1000} s`);
    this.set({ state: "restarting", pid: null, started_ts: null, last_exit: reason, next_restart_ts: reason.ts + decision.delayMs });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.restarting = this.restart().finally(() => (this.restarting = undefined));
    }, decision.delayMs);
  }

  private async restart() {
    if (this.stopping) return;
    // The ring now holds the next run's output, so a last error is always its own.
    this.lines.length = 0;
    this.set({ state: "starting", restarts: this.state.restarts + 1, next_restart_ts: null });
    let inst: Instance;
    try {
      inst = await this.opts.start({ onLine: this.onLine, signal: this.abort.signal });
    } catch (err) {
      if (!this.stopping) this.failed({ code: null, signal: null, ts: this.now(), error: oneLine(err) });
      return;
    }
    this.instance = inst;
    try {
      await inst.ready;
    } catch (err) {
      await inst.stop();
      const exit = await inst.exited;
      this.instance = undefined;
      if (!this.stopping) this.failed({ code: exit.code, signal: exit.signal, ts: this.now(), error: lastError(this.lines) ?? oneLine(err) });
      return;
    }
    if (this.stopping) return;
    this.opts.log.info({ process: this.name, pid: inst.pid, restarts: this.state.restarts }, `${this.name} restarted and ready`);
    this.running(inst);
  }

  /**
   * The stack is stopping: from now on an exit is not restarted. Called on every
   * process at once before they are stopped one by one, as a signal may already
   * have reached them all.
   */
  noMoreRestarts(): void {
    this.stopping = true;
    clearTimeout(this.timer);
  }

  /** Stop it for good: no more restarts, a start under way abandoned. Resolves once it is gone. */
  async stop(): Promise<void> {
    this.noMoreRestarts();
    this.abort.abort();
    await this.restarting;
    await this.instance?.stop();
    this.instance = undefined;
    this.state = { ...this.state, state: "stopped", pid: null, next_restart_ts: null };
  }
}

/**
 * A starter for a Node process: spawn it with line-split output, ready once
 * `readyUrl` answers 2xx within `readyTimeoutMs`.
 */
export function nodeStarter(opts: {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  readyUrl: string;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
}): Starter {
  return async ({ onLine, signal }) => {
    const child = spawn(opts.command, opts.args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    for (const stream of [child.stdout, child.stderr]) readline.createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);
    const exited = new Promise<Exit>((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
      // spawn failures (ENOENT) emit 'error' and never 'exit'.
      child.once("error", (err) => {
        onLine(`failed to start: ${err.message}`);
        resolve({ code: 127, signal: null });
      });
    });
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), opts.stopTimeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    };
    const ready = waitUntilReady(opts.readyUrl, opts.readyTimeoutMs, exited, opts.name, signal);
    // Awaited by the supervisor; a rejection before then must not count as unhandled.
    ready.catch(() => undefined);
    return { pid: child.pid, exited, ready, stop };
  };
}

async function waitUntilReady(url: string, timeoutMs: number, exited: Promise<Exit>, name: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone: Exit | undefined;
  void exited.then((e) => (gone = e));
  while (Date.now() < deadline) {
    if (gone) throw new StackError(`${name} exited during start-up (${describeExit(gone)}); its output above says why`);
    if (signal.aborted) throw new StackError(`${name}: start abandoned, the stack is stopping`);
    // A timer of our own rather than AbortSignal.timeout() inside AbortSignal.any():
    // a signal only the composite refers to can be collected, and then a probe of
    // something that accepts but never answers would hang this loop for good.
    const probe = new AbortController();
    const timer = setTimeout(() => probe.abort(), 2000);
    const onStop = () => probe.abort();
    signal.addEventListener("abort", onStop, { once: true });
    try {
      const res = await fetch(url, { signal: probe.signal });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // Not listening yet.
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onStop);
    }
    await delay(250, undefined, { signal }).catch(() => undefined);
  }
  throw new StackError(`${name} was not ready at ${url} within ${Math.round(timeoutMs / 1000)} s`);
}
