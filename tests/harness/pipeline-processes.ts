/**
 * The pipeline's workers as real processes (as `npm start` runs them) against
 * a cluster of the test's own: parse worker, emb-indexer instances, each on a
 * free port, each started as the launcher starts it (launchWorker).
 * The embed-worker and the bundled embedding service have theirs in
 * tests/harness/embed-worker.ts.
 */
import { freePort } from "./free-port";
import { isAlive, type RunningCommand } from "./processes";
import { waitFor } from "./wait-for";
import { launchWorker } from "./workers";


export interface WorkerProcess extends RunningCommand {
  name: string;
  url: string;
  port: number;
  /** SIGKILL to the worker's process group; resolves once it has exited. */
  kill9(): Promise<void>;
  /** SIGTERM and wait (a no-op once it exited). */
  terminate(): Promise<void>;
}

/** Start the stack's `worker` (its launcher name) with `env` on `port` (PORT_VARIABLE set by the caller) and wait until /health answers 200. */
export async function startWorkerProcess(name: string, worker: string, env: Record<string, string>, port: number, startTimeoutMs = 180_000): Promise<WorkerProcess> {
  const cmd = launchWorker(worker, { env: { ...process.env, LOG_LEVEL: "warn", SHUTDOWN_TIMEOUT_SEC: "10", ...env } });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${name} on ${url} to answer /health`, async () => {
    if (cmd.child.exitCode !== null) throw new Error(`${name} exited ${cmd.child.exitCode}: ${cmd.output().slice(-3000)}`);
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).status === 200;
  }, startTimeoutMs, 250);
  return {
    ...cmd,
    name,
    url,
    port,
    async kill9() {
      if (cmd.child.exitCode !== null || cmd.child.signalCode !== null) return;
      process.kill(-cmd.child.pid!, "SIGKILL");
      await cmd.exited;
    },
    async terminate() {
      if (cmd.child.exitCode !== null || cmd.child.signalCode !== null) return;
      cmd.child.kill("SIGTERM");
      await cmd.exited;
    },
  };
}

export async function startParseWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const port = await freePort();
  return startWorkerProcess("parse worker", "parse-worker", { ...env, PARSE_METRICS_PORT: String(port) }, port);
}

/** An emb-indexer instance; `port` again to restart one where the console and the group knew it. */
export async function startIndexer(instance: string, env: Record<string, string>, port?: number): Promise<WorkerProcess> {
  const p = port ?? (await freePort());
  return startWorkerProcess(`emb-indexer ${instance}`, "emb-indexer", { ...env, INDEXER_PORT: String(p), INDEXER_INSTANCE: instance }, p);
}

/** The broker's smallest session timeout: a killed group member's partitions move within seconds. */
export const GROUP_SESSION_TIMEOUT_SEC = 6;

/**
 * The environment of an emb-indexer in an INDEXER_GROUP of the caller's own that
 * answers vector queries only: no embedding service (nothing listens on port 9,
 * and nothing should call it), no live recall check, GROUP_SESSION_TIMEOUT_SEC.
 */
export function groupIndexerEnv(o: { brokers: string[]; topic: string; group: string; instance: string; port: number; dir: string; model: string }): Record<string, string> {
  return {
    KAFKA_BOOTSTRAP_SERVERS: o.brokers.join(","),
    EMBED_OUTPUT_TOPIC: o.topic,
    INDEXER_GROUP: o.group,
    INDEXER_PORT: String(o.port),
    INDEXER_INSTANCE: o.instance,
    INDEX_DIR: o.dir,
    INFERMESH_URL: "http://127.0.0.1:9",
    EMBED_MODEL: o.model,
    INDEX_RECALL_INTERVAL_SEC: "0",
    INDEXER_SESSION_TIMEOUT_SEC: String(GROUP_SESSION_TIMEOUT_SEC),
  };
}

/** SIGKILL a process group by its leader's pid and wait until the leader is gone. */
export async function kill9Group(pid: number): Promise<void> {
  process.kill(-pid, "SIGKILL");
  await waitFor(`process ${pid} to die`, () => !isAlive(pid), 10_000, 20);
}
