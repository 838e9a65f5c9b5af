import path from "node:path";
import { fileURLToPath } from "node:url";
import type { StackConfig } from "../../lib/config/stack";
import { createKafka } from "../../lib/kafka/client";
import { ensureTopics } from "../../lib/kafka/topics";
import type { Logger } from "../../lib/log";
import { ensureSparkInstalled } from "../install/spark";
import { ensureKafkaInstalled, startLocalBroker } from "../kafka/broker";
import { StackError } from "../stack-error";
import { ensureConsoleBuilt } from "./console-build";
import { assertPortFree } from "./ports";
import { stackProcesses, type LaunchContext, type StackProcess } from "./processes";
import { supervise, type Exit } from "./supervise";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface StartOptions {
  cfg: StackConfig;
  /** The environment handed to every child (the launcher adds the broker address). */
  env: NodeJS.ProcessEnv;
  /** Launcher flags such as --reddb or --spark. */
  flags: ReadonlySet<string>;
  log: Logger;
  /** Where child output goes; the CLI prefixes it, tests may collect it. */
  onLine?: (name: string, line: string) => void;
}

export interface RunningStack {
  brokers: string[];
  consoleUrl: string;
  /** Settles with the name of the first process that exits on its own. */
  crashed: Promise<{ name: string; exit: Exit }>;
  /** Stops everything in reverse start order; safe to call more than once. */
  stop(): Promise<void>;
}

interface Stoppable {
  name: string;
  stop(): Promise<unknown>;
}

const defaultOnLine = (name: string, line: string) => process.stdout.write(`${name.padEnd(8)}| ${line}\n`);

async function waitUntilReady(url: string, timeoutMs: number, exited: Promise<Exit>, name: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone: Exit | undefined;
  void exited.then((e) => (gone = e));
  while (Date.now() < deadline) {
    if (gone) throw new StackError(`${name} exited during start-up (code ${gone.code ?? gone.signal}); its output above says why`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new StackError(`${name} was not ready at ${url} within ${Math.round(timeoutMs / 1000)} s`);
}

/**
 * Install what the stack needs, then start every declared process in order.
 * On any failure, whatever was already started is stopped before the error
 * propagates, so nothing is left running.
 */
export async function startStack(opts: StartOptions): Promise<RunningStack> {
  const { cfg, flags, log } = opts;
  const onLine = opts.onLine ?? defaultOnLine;
  const ctx: LaunchContext = { cfg, root: repoRoot };
  const selected = stackProcesses.filter((p: StackProcess) => (!p.flag || flags.has(p.flag)) && !(p.unlessFlag && flags.has(p.unlessFlag)));
  const started: Stoppable[] = [];
  let crash!: (c: { name: string; exit: Exit }) => void;
  const crashed = new Promise<{ name: string; exit: Exit }>((resolve) => (crash = resolve));
  let stopping = false;

  const stop = async () => {
    stopping = true;
    for (const s of started.splice(0).reverse()) {
      log.info({ process: s.name }, "stopping");
      await s.stop();
    }
  };

  try {
    const childEnv: NodeJS.ProcessEnv = { ...opts.env, NEXT_TELEMETRY_DISABLED: "1" };
    if (!cfg.kafka.external) await ensureKafkaInstalled(log);
    if (selected.some((p) => p.name === "spark")) await ensureSparkInstalled(log);
    if (selected.some((p) => p.name === "console")) ensureConsoleBuilt(repoRoot, childEnv, log);
    for (const p of selected) {
      if (!p.external?.(cfg)) await assertPortFree(p.port(cfg), p.name, p.portVariable);
    }

    for (const p of selected) {
      Object.assign(childEnv, p.provides?.(cfg));
      if (p.external?.(cfg)) {
        log.info({ process: p.name, env: p.provides?.(cfg) }, "using the existing service; not started");
        if (p.launch.kind === "kafka") {
          const kafka = createKafka({ clientId: "embedline-launcher", brokers: cfg.kafka.brokers, log });
          await ensureTopics(kafka, cfg.kafka.topics, cfg.kafka.partitions);
        }
        continue;
      }
      if (p.launch.kind === "kafka") {
        const broker = await startLocalBroker(cfg.kafka, log, { onOutput: (line) => onLine(p.name, line) });
        started.push({ name: p.name, stop: () => broker.stop() });
        void new Promise<Exit>((resolve) => broker.child.once("exit", (code, signal) => resolve({ code, signal }))).then(
          (exit) => stopping || crash({ name: p.name, exit }),
        );
        continue;
      }
      const proc = supervise(p.name, process.execPath, p.launch.args(ctx), { cwd: repoRoot, env: childEnv, onLine });
      started.push({ name: p.name, stop: () => proc.stop(cfg.shutdownTimeoutMs) });
      void proc.exited.then((exit) => stopping || crash({ name: p.name, exit }));
      await waitUntilReady(p.launch.readyUrl(ctx), p.readyTimeoutMs ?? 60_000, proc.exited, p.name);
      log.info({ process: p.name, port: p.port(cfg) }, "ready");
    }
    return { brokers: cfg.kafka.brokers, consoleUrl: `http://127.0.0.1:${cfg.console.port}`, crashed, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
