// The one build of the stack's own TypeScript into plain JavaScript: the workers
// (scripts/launcher/worker-build.ts) and the launcher itself (scripts/bootstrap.mjs,
// which runs before anything can transpile TypeScript, hence plain JavaScript here;
// types in esbuild-build.d.mts). It needs esbuild installed: import it after npm install.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const STAMP = "build-stamp.json";

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
const esbuildVersion = JSON.parse(readFileSync(path.join(esbuildPackage, "package.json"), "utf8")).version;

/**
 * The launcher's own build, which scripts/bootstrap.mjs runs before starting it:
 * scripts/start.ts into .build/launcher/start.mjs. Two levels under the repository,
 * like the sources, so a module that finds the repository as "../.." from its own
 * location finds it from the bundle too.
 */
export const launcherBuild = (root) => ({ root, outDir: path.join(root, ".build", "launcher"), bundles: { start: path.join("scripts", "start.ts") } });

/** esbuild failed to compile (message: its diagnostics) or could not run. */
export class BuildError extends Error {
  name = "BuildError";
}

const sha256 = (file) => createHash("sha256").update(readFileSync(file)).digest("hex");

function stampKey(b) {
  return createHash("sha256").update(esbuildVersion).update(JSON.stringify([BUILD_FLAGS, b.bundles])).digest("hex");
}

/** Null when the output is current: same key, every output there, every input unchanged. Otherwise why not. */
export function staleness(b) {
  const stampFile = path.join(b.outDir, STAMP);
  if (!existsSync(stampFile)) return "no build yet";
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(stampFile, "utf8"));
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

/**
 * Bundle every entry into b.outDir (`<name>.mjs` and its source map) and write the
 * stamp; returns how many source files it read. The output directory is the build's
 * own: what it holds besides this build's outputs is removed. Throws BuildError.
 */
export function build(b) {
  mkdirSync(b.outDir, { recursive: true });
  // esbuild writes into a directory of this build's own; each file then replaces
  // its old version by a rename, so a reader (or another build) never sees half a file.
  const staging = mkdtempSync(path.join(b.outDir, ".staging-"));
  try {
    const metafile = path.join(staging, "meta.json");
    const out = path.join(staging, "out");
    const entries = Object.entries(b.bundles).map(([name, entry]) => `${name}=${path.join(b.root, entry)}`);
    const result = spawnSync(path.join(esbuildPackage, "bin", "esbuild"), [...BUILD_FLAGS, `--outdir=${out}`, `--metafile=${metafile}`, ...entries], { cwd: b.root, encoding: "utf8" });
    if (result.error) throw new BuildError(`could not run esbuild (${result.error.message}); reinstall with npm install`);
    if (result.status !== 0) throw new BuildError(result.stderr.trimEnd());
    const written = new Set([STAMP]);
    for (const name of readdirSync(out)) {
      renameSync(path.join(out, name), path.join(b.outDir, name));
      written.add(name);
    }
    // Outputs of bundles no longer built (and what a build that was killed left).
    for (const name of readdirSync(b.outDir)) if (!written.has(name) && !name.startsWith(".staging-") && !name.endsWith(".tmp")) rmSync(path.join(b.outDir, name), { recursive: true, force: true });
    const read = Object.keys(JSON.parse(readFileSync(metafile, "utf8")).inputs);
    const inputs = {};
    for (const file of [...read, "tsconfig.json"].sort()) {
      const full = path.join(b.root, file);
      if (existsSync(full)) inputs[file] = sha256(full);
    }
    // Through a temporary name, so a concurrent reader never sees half a stamp.
    const stampFile = path.join(b.outDir, STAMP);
    const tmp = `${stampFile}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ key: stampKey(b), inputs }, null, 1)}\n`);
    renameSync(tmp, stampFile);
    return Object.keys(inputs).length;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
