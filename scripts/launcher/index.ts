import path from "node:path";
import { fileURLToPath } from "node:url";
import { redactConfig } from "../../lib/config/redact";
import { withScale, type StackConfig } from "../../lib/config/stack";
import { createKafka } from "../../lib/kafka/client";
import { compactedTopic, ensureTopics, warnExistingDiffers } from "../../lib/kafka/topics";
import type { Logger } from "../../lib/log";
import { bundledModel, ensureModelsInstalled } from "../install/models";
import { ensureSparkInstalled } from "../install/spark";
import { ensureKafkaInstalled, startLocalBroker } from "../kafka/broker";
import { ensureConsoleBuilt } from "./console-build";
import { assertPlanPortsFree, checkPortPlan, planProcesses } from "./instances";
import { assertPortFree } from "./ports";
import { launchArgs, stackProcesses, type LaunchContext, type StackProcess } from "./processes";
import { defaultBackoff, restartPolicy } from "./restart-policy";
import { StateFile } from "./state-file";
import { StackError } from "../stack-error";
import { nodeStarter, ProcessSupervisor, type CrashLoop, type Exit, type Starter } from "./supervise";
import { ensureWorkersBuilt, stackWorkerBuild } from "./worker-build";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface StartOptions {
  cfg: StackConfig;
  /** The environment handed to every child (the launcher adds the broker address). */
  env: NodeJS.ProcessEnv;
  /** Launcher flags such as --reddb or --spark. */
  flags: ReadonlySet<string>;
  /** Instances of the scalable processes (`--embedders N`, `--indexers N`); 1 each when absent. */
  scale?: StackConfig["scale"];
  log: Logger;
  /** Where child output goes; the CLI prefixes it, tests may collect it. */
  onLine?: (name: string, line: string) => void;
}

export interface RunningStack {
  brokers: string[];
  consoleUrl: string;
  /** Where the launcher publishes each process's state (restarts, last exit). */
  stateFile: string;
  /** The environment the console was given: every service's address. What another console beside it needs (startConsole). */
  consoleEnv: NodeJS.ProcessEnv;
  /**
   * Settles when a process crash-loops: it exited more than
   * LAUNCHER_CRASH_LOOP_RESTARTS times within LAUNCHER_CRASH_LOOP_WINDOW_SEC.
   * Any other unexpected exit is restarted, never reported here.
   */
  crashLooped: Promise<CrashLoop>;
  /** Stops everything in reverse start order; safe to call more than once. */
  stop(): Promise<void>;
}

const defaultOnLine = (name: string, line: string) => process.stdout.write(`${name.padEnd(8)}| ${line}\n`);

/** The local broker as a supervised process: a restart runs it again on the same data dir. */
function brokerStarter(cfg: StackConfig, log: Logger, classpath: string): Starter {
  return async ({ onLine, signal }) => {
    const broker = await startLocalBroker(cfg.kafka, log, {
      classpath,
      onOutput: onLine,
      stopTimeoutMs: cfg.shutdownTimeoutMs,
      onSpawn: (child) => {
        if (signal.aborted) child.kill("SIGTERM");
        else signal.addEventListener("abort", () => child.kill("SIGTERM"), { once: true });
      },
    });
    const { child } = broker;
    const exited = new Promise<Exit>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once("exit", (code, sig) => resolve({ code, signal: sig }));
    });
    return { pid: child.pid, exited, ready: Promise.resolve(), stop: () => broker.stop() };
  };
}

/**
 * The broker's jars (unless the cluster is external) and the files of the model
 * the bundled embedding service loads (unless INFERMESH_URL names another
 * service), side by side: on a first start both wait on Maven downloads.
 * Both run to the end before an error is thrown, so no Maven is left behind.
 */
async function installKafkaAndModel(selected: StackProcess[], cfg: StackConfig, log: Logger): Promise<string | undefined> {
  const bundledService = selected.some((p) => p.name === "infermesh") && !cfg.infermesh.external;
  // An unknown INFERMESH_MODEL is refused before anything starts.
  const models = bundledService ? [bundledModel(cfg.infermesh.model)] : [];
  const [kafka, model] = await Promise.allSettled([
    cfg.kafka.external ? undefined : ensureKafkaInstalled(log),
    ensureModelsInstalled(log, { models, cacheDir: cfg.modelCacheDir }),
  ]);
  if (kafka.status === "rejected") throw kafka.reason;
  if (model.status === "rejected") throw model.reason;
  return kafka.value;
}

/**
 * Install what the stack needs, then start every declared process in order.
 * On any failure, whatever was already started is stopped before the error
 * propagates, so nothing is left running.
 */
export async function startStack(opts: StartOptions): Promise<RunningStack> {
  const { flags, log } = opts;
  if (opts.cfg.infermesh.external && (opts.scale?.embedders ?? 1) > 1) {
    throw new StackError("--embedders starts bundled embedding services, but INFERMESH_URL names the operator's: unset INFERMESH_URL, or list every instance in it and drop --embedders");
  }
  const cfg = withScale(opts.cfg, opts.scale ?? opts.cfg.scale);
  const onLine = opts.onLine ?? defaultOnLine;
  const selected = stackProcesses.filter((p: StackProcess) => (!p.flag || flags.has(p.flag)) && !(p.unlessFlag && flags.has(p.unlessFlag)));
  const plan = planProcesses(selected, cfg);
  checkPortPlan(plan, cfg);
  const supervisors: ProcessSupervisor[] = [];
  const { supervision } = cfg;
  const state = new StateFile(supervision.stateFile, { restarts: supervision.crashLoopRestarts, windowMs: supervision.crashLoopWindowMs }, () =>
    supervisors.map((s) => s.snapshot()),
  );
  let crashLoop!: (c: CrashLoop) => void;
  const crashLooped = new Promise<CrashLoop>((resolve) => (crashLoop = resolve));
  let stopping: Promise<void> | undefined;

  const stop = () =>
    (stopping ??= (async () => {
      for (const s of supervisors) s.noMoreRestarts();
      for (const s of [...supervisors].reverse()) {
        log.info({ process: s.name }, "stopping");
        await s.stop();
        state.write();
      }
      state.remove();
    })());

  const supervise = (name: string, start: Starter) => {
    const s = new ProcessSupervisor({
      name,
      start,
      policy: restartPolicy({ ...defaultBackoff, crashLoopRestarts: supervision.crashLoopRestarts, crashLoopWindowMs: supervision.crashLoopWindowMs }),
      log,
      onLine,
      onChange: () => stopping || state.write(),
      onCrashLoop: crashLoop,
    });
    supervisors.push(s);
    return s;
  };

  try {
    // Every child learns where the launcher publishes its state (the console shows it).
    // MODEL_CACHE_DIR resolved here, so the embedding service loads what was just installed whatever its cwd.
    const childEnv: NodeJS.ProcessEnv = { ...opts.env, NEXT_TELEMETRY_DISABLED: "1", LAUNCHER_STATE_FILE: state.file, MODEL_CACHE_DIR: cfg.modelCacheDir };
    // First: a compile error shows in seconds, before any download.
    if (selected.some((p) => p.launch.kind === "worker")) ensureWorkersBuilt(stackWorkerBuild(repoRoot), log);
    const classpath = await installKafkaAndModel(selected, cfg, log);
    if (selected.some((p) => p.name === "spark")) await ensureSparkInstalled(log);
    if (selected.some((p) => p.name === "console")) ensureConsoleBuilt(repoRoot, childEnv, log);
    await assertPlanPortsFree(plan, cfg);

    for (const planned of plan) {
      const { process: p, instance } = planned;
      const ctx: LaunchContext = { cfg: planned.cfg, root: repoRoot };
      if (instance === 0) Object.assign(childEnv, p.provides?.(cfg));
      if (p.external?.(cfg)) {
        // INFERMESH_URL / REDDB_URL given by the operator may carry credentials (https://user:pass@…).
        log.info({ process: p.name, env: redactConfig(p.provides?.(cfg)) }, "using the existing service; not started");
        if (p.launch.kind === "kafka") {
          const kafka = createKafka({ clientId: "embedline-launcher", brokers: cfg.kafka.brokers, log });
          await ensureTopics(kafka, cfg.kafka.topics, cfg.kafka.partitions, { ...cfg.kafka.replication, configs: compactedTopic(cfg.kafka.outputTopic), onExistingDiffers: warnExistingDiffers(log) });
        }
        continue;
      }
      const starter =
        p.launch.kind === "kafka"
          ? brokerStarter(cfg, log, classpath!)
          : nodeStarter({
              name: planned.name,
              command: process.execPath,
              args: launchArgs(p, ctx),
              cwd: repoRoot,
              // A copy: later processes add their variables to childEnv, and a restart must see the same environment.
              env: { ...childEnv, ...planned.env },
              readyUrl: p.launch.readyUrl(ctx),
              readyTimeoutMs: p.readyTimeoutMs ?? 60_000,
              stopTimeoutMs: cfg.shutdownTimeoutMs,
            });
      await supervise(planned.name, starter).start();
      log.info({ process: planned.name, port: planned.port }, "ready");
    }
    state.write();
    return { brokers: cfg.kafka.brokers, consoleUrl: `http://127.0.0.1:${cfg.console.port}`, stateFile: state.file, consoleEnv: { ...childEnv }, crashLooped, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface ExtraConsole {
  url: string;
  /** SIGTERM, then SIGKILL after SHUTDOWN_TIMEOUT_SEC; resolves once it is gone. */
  stop(): Promise<void>;
}

/**
 * One more console beside a running stack's, on its own port and with other
 * variables (the e2e token run: the same stack behind CONSOLE_TOKEN). It is the
 * console process of stackProcesses, started and probed for readiness exactly
 * as the launcher does, from the build the stack's console serves; not
 * supervised, the caller stops it. `env`: the stack's `consoleEnv` plus what
 * differs.
 */
export async function startConsole(opts: { cfg: StackConfig; env: NodeJS.ProcessEnv; port: number; onLine: (line: string) => void }): Promise<ExtraConsole> {
  const p = stackProcesses.find((sp) => sp.name === "console");
  if (p?.launch.kind !== "node") throw new Error("the stack declares no console process");
  const cfg: StackConfig = { ...opts.cfg, console: { ...opts.cfg.console, port: opts.port } };
  const ctx: LaunchContext = { cfg, root: repoRoot };
  await assertPortFree(opts.port, "console", "CONSOLE_PORT");
  const abort = new AbortController();
  const instance = await nodeStarter({
    name: p.name,
    command: process.execPath,
    args: launchArgs(p, ctx),
    cwd: repoRoot,
    env: { ...opts.env, CONSOLE_PORT: String(opts.port) },
    readyUrl: p.launch.readyUrl(ctx),
    readyTimeoutMs: p.readyTimeoutMs ?? 60_000,
    stopTimeoutMs: cfg.shutdownTimeoutMs,
  })({ onLine: opts.onLine, signal: abort.signal });
  const stop = async () => {
    abort.abort();
    await instance.stop();
  };
  try {
    await instance.ready;
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `http://127.0.0.1:${opts.port}`, stop };
}
