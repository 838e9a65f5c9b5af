import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Logger } from "../../lib/log";
import { StackError } from "../stack-error";
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

export interface WorkerBuild {
  root: string;
  /** Absolute output directory. */
  outDir: string;
  /** Output name (`<name>.mjs`) → its TypeScript entry, relative to root. */
  bundles: Record<string, string>;
}

export const stackWorkerBuild = (root: string): WorkerBuild => ({ root, outDir: path.join(root, WORKERS_OUT_DIR), bundles: stackBundles() });

const STAMP = "build-stamp.json";

interface Stamp {
  /** Hash of what decides the output besides the sources: esbuild's version, the options, the bundles. */
  key: string;
  /** Every source file the last build read (esbuild's metafile), relative to root, with its sha256. */
  inputs: Record<string, string>;
}

/**
 * esbuild's command line for the build, without entries and output: run as its
 * own short process (the CLI), so no esbuild service outlives the build beside
 * the stack (the JS API keeps one, or leaves it a zombie once stopped).
 */
const BUILD_FLAGS = [
  "--bundle",
  "--platform=node",
  "--format=esm",
  "--target=node20.19",
  // node_modules stay where npm put them and are resolved by node at run time:
  // native addons (usearch, lmdb, onnxruntime) and patch-package's fixes apply as they are.
  "--packages=external",
  // What the console's server side sees; `server-only` itself is a package, so node
  // resolves it at run time under the same condition (workerNodeArgs).
  "--conditions=react-server",
  // Stack traces name the TypeScript file and line (node --enable-source-maps).
  "--sourcemap=linked",
  "--sources-content=false",
  // Bundling renames clashing top-level names; error names and logs keep the real ones.
  "--keep-names",
  "--out-extension:.js=.mjs",
  "--log-level=error",
  "--color=false",
];

const esbuildPackage = path.dirname(createRequire(import.meta.url).resolve("esbuild/package.json"));
const esbuildVersion = (JSON.parse(readFileSync(path.join(esbuildPackage, "package.json"), "utf8")) as { version: string }).version;

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

function stampKey(b: WorkerBuild): string {
  return createHash("sha256").update(esbuildVersion).update(JSON.stringify([BUILD_FLAGS, b.bundles])).digest("hex");
}

/** Null when the output is current: same key, every output there, every input unchanged. Otherwise why not. */
function staleness(b: WorkerBuild): string | null {
  const stampFile = path.join(b.outDir, STAMP);
  if (!existsSync(stampFile)) return "no build yet";
  let stamp: Stamp;
  try {
    stamp = JSON.parse(readFileSync(stampFile, "utf8")) as Stamp;
  } catch {
    return "unreadable build stamp";
  }
  if (stamp.key !== stampKey(b)) return "build options changed";
  const missing = Object.keys(b.bundles).find((name) => !existsSync(path.join(b.outDir, `${name}.mjs`)));
  if (missing) return `${missing}.mjs missing`;
  for (const [file, hash] of Object.entries(stamp.inputs)) {
    const full = path.join(b.root, file);
    if (!existsSync(full) || sha256(full) !== hash) return `${file} changed`;
  }
  return null;
}

/** Write `data` to `file` through a temporary name, so a concurrent reader never sees half a file. */
function writeAtomically(file: string, data: string) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** Bundle every entry; returns what was read. Throws StackError with esbuild's messages on a compile error. */
function build(b: WorkerBuild): Stamp {
  mkdirSync(b.outDir, { recursive: true });
  // esbuild writes into a directory of this build's own; each file then replaces
  // its old version by a rename, so a reader (or another build) never sees half a file.
  const staging = mkdtempSync(path.join(b.outDir, ".staging-"));
  try {
    const metafile = path.join(staging, "meta.json");
    const out = path.join(staging, "out");
    const entries = Object.entries(b.bundles).map(([name, entry]) => `${name}=${path.join(b.root, entry)}`);
    const result = spawnSync(path.join(esbuildPackage, "bin", "esbuild"), [...BUILD_FLAGS, `--outdir=${out}`, `--metafile=${metafile}`, ...entries], { cwd: b.root, encoding: "utf8" });
    if (result.error) throw new StackError(`could not run esbuild (${result.error.message}); reinstall with npm install`);
    if (result.status !== 0) throw new StackError(`the worker build failed:\n${result.stderr.trimEnd()}`);
    const written = new Set<string>([STAMP]);
    for (const name of readdirSync(out)) {
      renameSync(path.join(out, name), path.join(b.outDir, name));
      written.add(name);
    }
    // Outputs of bundles no longer built (and what a build that was killed left).
    for (const name of readdirSync(b.outDir)) if (!written.has(name) && !name.startsWith(".staging-") && !name.endsWith(".tmp")) rmSync(path.join(b.outDir, name), { recursive: true, force: true });
    const read = Object.keys((JSON.parse(readFileSync(metafile, "utf8")) as { inputs: Record<string, unknown> }).inputs);
    const inputs: Record<string, string> = {};
    for (const file of [...read, "tsconfig.json"].sort()) {
      const full = path.join(b.root, file);
      if (existsSync(full)) inputs[file] = sha256(full);
    }
    return { key: stampKey(b), inputs };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

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
  const stamp = build(b);
  writeAtomically(path.join(b.outDir, STAMP), `${JSON.stringify(stamp, null, 1)}\n`);
  log?.info({ durationMs: Date.now() - started, bundles: Object.keys(b.bundles).length, inputs: Object.keys(stamp.inputs).length }, "workers built");
  return true;
}
