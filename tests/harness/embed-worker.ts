/**
 * The embed-worker and the services it talks to (the bundled embedding
 * service, the RedDB-compatible store) as real processes on free ports, for
 * the integration tests, the cluster stage and the benches.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./free-port";
import type { RunningCommand } from "./processes";
import { waitFor } from "./wait-for";
import { launchWorker } from "./workers";

export interface WorkerProcess extends RunningCommand {
  metricsUrl: string;
  kill9(): Promise<void>;
  terminate(): Promise<number | null>;
}

/** `nodeArgs`: extra node flags for the worker (the benchmark's `--cpu-prof`, which NODE_OPTIONS refuses). */
export async function startWorker(env: Record<string, string>, nodeArgs: string[] = []): Promise<WorkerProcess> {
  const port = await freePort();
  const cmd = launchWorker("embed-worker", {
    nodeArgs,
    env: { ...process.env, LOG_LEVEL: process.env.EMBED_TEST_LOG_LEVEL ?? "info", SHUTDOWN_TIMEOUT_SEC: "20", EMBED_METRICS_PORT: String(port), ...env },
  });
  const metricsUrl = `http://127.0.0.1:${port}`;
  await waitFor(`embed-worker on ${metricsUrl} (output: ${cmd.output().slice(-2000)})`, async () => {
    if (cmd.child.exitCode !== null) throw new Error(`worker exited ${cmd.child.exitCode}: ${cmd.output().slice(-3000)}`);
    return (await fetch(`${metricsUrl}/health`)).ok;
  }, 60_000);
  return {
    ...cmd,
    metricsUrl,
    async kill9() {
      process.kill(-cmd.child.pid!, "SIGKILL");
      await cmd.exited;
    },
    async terminate() {
      if (cmd.child.exitCode !== null) return cmd.child.exitCode;
      cmd.child.kill("SIGTERM");
      return cmd.exited;
    },
  };
}

/** An embedding_input record numbered `i` (doc_id `doc-i`), with `extra` fields over it. */
export const inputRecord = (i: number, extra: Record<string, unknown> = {}) => JSON.stringify({ text: `record number ${i}: the quick brown fox`, topic: "agent.results", kafka_ts: 1700000000 + i, doc_id: `doc-${i}`, ...extra });

export interface RealInfermesh {
  url: string;
  port: number;
  /** Process id of the running service (undefined while stopped). */
  pid(): number | undefined;
  output(): string;
  /** SIGTERM and wait for the exit: connections are refused until start(). */
  stop(): Promise<void>;
  /** Start it again on the same port and wait until the model answers. */
  start(): Promise<void>;
}

/**
 * The bundled embedding service (workers/infermesh) with the real model, as a
 * process of its own on a free port, so a test can stop and restart it.
 */
export async function startRealInfermesh(env: Record<string, string> = {}): Promise<RealInfermesh> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let cmd: RunningCommand | undefined;
  let log = "";
  const start = async () => {
    cmd = launchWorker("infermesh", {
      env: { ...process.env, INFERMESH_PORT: String(port), INFERMESH_HOST: "127.0.0.1", LOG_LEVEL: "info", SHUTDOWN_TIMEOUT_SEC: "10", ...env },
    });
    const running = cmd;
    // Loading the model takes seconds, more on a busy machine.
    await waitFor(`the embedding service on ${url} to load its model`, async () => {
      if (running.child.exitCode !== null) throw new Error(`embedding service exited ${running.child.exitCode}: ${running.output().slice(-2000)}`);
      return (await fetch(`${url}/health`)).status === 200;
    }, 180_000, 250);
  };
  await start();
  return {
    url,
    port,
    pid: () => (cmd && cmd.child.exitCode === null ? cmd.child.pid : undefined),
    output: () => log + (cmd?.output() ?? ""),
    async stop() {
      if (!cmd || cmd.child.exitCode !== null) return;
      const running = cmd;
      running.child.kill("SIGTERM");
      await running.exited;
      log += running.output();
    },
    start,
  };
}

export interface ReddbServer {
  url: string;
  close(): Promise<void>;
}

/** The bundled RedDB-compatible store (workers/reddb) as a process of its own, on a free port, with a fresh LMDB directory. */
export async function startReddb(env: Record<string, string> = {}): Promise<ReddbServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "embed-reddb-"));
  const cmd = launchWorker("reddb", {
    env: { ...process.env, REDDB_HOST: "127.0.0.1", REDDB_PORT: String(port), REDDB_DATA_DIR: dataDir, LOG_LEVEL: "warn", ...env },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`RedDB on ${url}`, async () => {
    if (cmd.child.exitCode !== null) throw new Error(`RedDB exited ${cmd.child.exitCode}: ${cmd.output().slice(-2000)}`);
    return (await fetch(`${url}/health`)).ok;
  }, 60_000);
  return {
    url,
    async close() {
      if (cmd.child.exitCode === null) {
        cmd.child.kill("SIGTERM");
        await cmd.exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
