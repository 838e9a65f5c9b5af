import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as esbuild from "esbuild";
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

function options(b: WorkerBuild): esbuild.BuildOptions {
  return {
    absWorkingDir: b.root,
    entryPoints: Object.fromEntries(Object.entries(b.bundles).map(([name, entry]) => [name, path.join(b.root, entry)])),
    outdir: b.outDir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20.19",
    // node_modules stay where npm put them and are resolved by node at run time:
    // native addons (usearch, lmdb, onnxruntime) and patch-package's fixes apply as they are.
    packages: "external",
    // What the console's server side sees; `server-only` itself is a package, so node
    // resolves it at run time under the same condition (workerNodeArgs).
    conditions: ["react-server"],
    // Stack traces name the TypeScript file and line (node --enable-source-maps).
    sourcemap: "linked",
    sourcesContent: false,
    // Bundling renames clashing top-level names; error names and logs keep the real ones.
    keepNames: true,
    metafile: true,
    write: false,
    logLevel: "silent",
  };
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

function stampKey(b: WorkerBuild): string {
  const opts = { ...options(b), absWorkingDir: undefined, outdir: undefined };
  return createHash("sha256").update(esbuild.version).update(JSON.stringify(opts)).digest("hex");
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

/** Write `data` to `file` through a temporary name, so a concurrent reader or builder never sees half a file. */
function writeAtomically(file: string, data: Uint8Array | string) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** Bundle every entry; returns what was read. Throws StackError with esbuild's messages on a compile error. */
function build(b: WorkerBuild): Stamp {
  let result: esbuild.BuildResult<{ metafile: true; write: false }>;
  try {
    result = esbuild.buildSync(options(b)) as esbuild.BuildResult<{ metafile: true; write: false }>;
  } catch (err) {
    const errors = (err as { errors?: esbuild.Message[] }).errors;
    const text = errors ? esbuild.formatMessagesSync(errors, { kind: "error" }).join("") : String(err);
    throw new StackError(`the worker build failed:\n${text.trimEnd()}`);
  } finally {
    // esbuild's service is not wanted beside the stack.
    void esbuild.stop();
  }
  mkdirSync(b.outDir, { recursive: true });
  const written = new Set<string>([STAMP]);
  for (const out of result.outputFiles) {
    writeAtomically(out.path, out.contents);
    written.add(path.basename(out.path));
  }
  // Outputs of bundles no longer built.
  for (const name of readdirSync(b.outDir)) if (!written.has(name) && !name.endsWith(".tmp")) rmSync(path.join(b.outDir, name), { force: true });
  const inputs: Record<string, string> = {};
  for (const file of [...Object.keys(result.metafile.inputs), "tsconfig.json"].sort()) {
    const full = path.join(b.root, file);
    if (existsSync(full)) inputs[file] = sha256(full);
  }
  return { key: stampKey(b), inputs };
}

/**
 * Bundle the workers into plain JavaScript (one `.mjs` each, with source maps) when
 * their sources changed since the last build, as ensureConsoleBuilt does for the
 * console: `npm start`, `npm test`, the tests' and benches' worker processes and the
 * image all run the result with node. Returns whether it built. Synchronous, like
 * the console's: about a second for every worker on 2 cores, a few ms to find it current.
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
