import path from "node:path";
import type { Logger } from "../../lib/log";
import { StackError } from "../stack-error";
import { build, BuildError, staleness, type Build } from "./esbuild-build.mjs";
import { stackProcesses, WORKERS_OUT_DIR } from "./processes";

/**
 * Worker threads the workers start with `new Worker(new URL("./<name>.mjs", import.meta.url))`.
 * From the sources that URL is a small shim that registers tsx (tests, dev tools);
 * from a built worker it is the bundle's own directory, so each thread's module is
 * built there under that name, with nothing to register.
 * tests/unit/launcher-worker-build.test.ts checks every such URL in lib/ and workers/ is here.
 */
export const workerThreads: Record<string, string> = {
  "encode-thread": "lib/parquet/encode-worker.ts",
  "model-thread": "workers/infermesh/model-worker.ts",
};

/** What the stack builds: each worker process of the table by its name, and every thread. */
export function stackBundles(): Record<string, string> {
  const bundles: Record<string, string> = {};
  for (const p of stackProcesses) if (p.launch.kind === "worker") bundles[p.name] = p.launch.entry;
  for (const [name, entry] of Object.entries(workerThreads)) {
    if (bundles[name]) throw new Error(`worker build: ${name} is both a process and a thread`);
    bundles[name] = entry;
  }
  return bundles;
}

export type WorkerBuild = Build;

export const stackWorkerBuild = (root: string): WorkerBuild => ({ root, outDir: path.join(root, WORKERS_OUT_DIR), bundles: stackBundles() });

/**
 * Bundle the workers into plain JavaScript (one `.mjs` each, with source maps) when
 * their sources changed since the last build, as ensureConsoleBuilt does for the
 * console: `npm start`, `npm test`, the tests' and benches' worker processes and the
 * image all run the result with node. Returns whether it built. Synchronous, like
 * the console's: under a second for every worker on 2 cores, ~10 ms to find it current.
 */
export function ensureWorkersBuilt(b: WorkerBuild, log?: Logger): boolean {
  const why = staleness(b);
  if (why === null) return false;
  log?.info({ reason: why }, "building the workers (esbuild)");
  const started = Date.now();
  let inputs: number;
  try {
    inputs = build(b);
  } catch (err) {
    if (err instanceof BuildError) throw new StackError(`the worker build failed:\n${err.message}`);
    throw err;
  }
  log?.info({ durationMs: Date.now() - started, bundles: Object.keys(b.bundles).length, inputs }, "workers built");
  return true;
}
