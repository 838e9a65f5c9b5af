#!/usr/bin/env node
// Entry point of `npm start` and `npm test` on a fresh clone. Until npm install has
// run it may use nothing but Node itself: it installs the npm dependencies (only when
// package-lock.json or patches/ changed since the last install), then hands over to the
// command in scripts/<command>.ts. Every other install step lives in those commands.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const [command, ...args] = process.argv.slice(2);
const commands = ["start", "test"];

function fail(message) {
  process.stderr.write(`embedline: ${message}\n`);
  process.exit(1);
}

if (!commands.includes(command)) fail(`usage: node scripts/bootstrap.mjs <${commands.join("|")}> [args]`);

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) fail(`Node ${process.versions.node} is too old: install Node 20.19 or newer`);

/** What an install depends on: the lock, and the fixes patch-package applies to installed packages (patches/). */
function installHash() {
  const hash = createHash("sha256").update(readFileSync(path.join(root, "package-lock.json")));
  const patches = path.join(root, "patches");
  if (existsSync(patches)) for (const name of readdirSync(patches).sort()) hash.update(name).update(readFileSync(path.join(patches, name)));
  return hash.digest("hex");
}

function installDependencies() {
  const hash = installHash();
  const stamp = path.join(root, "node_modules", ".embedline-lock-sha256");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === hash) return;
  process.stdout.write("embedline: installing npm dependencies (npm install)…\n");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  // `npm install`, not `npm ci`: registries that serve only this platform's
  // optional binaries (@next/swc-*, oxide, …) leave the other platforms' entries
  // out of the lock, and `npm ci` rejects such a lock as out of sync. `install`
  // still takes the locked versions.
  // onnxruntime-node's postinstall would download CUDA/TensorRT binaries; the CPU
  // runtime Embedline uses ships inside the package.
  const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" };
  const result = spawnSync(npm, ["install", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit", env });
  if (result.error) fail(`could not run npm: ${result.error.message}`);
  if (result.status !== 0) fail("npm install failed (see above); check the network to the npm registry and retry");
  writeFileSync(stamp, installHash());
}

installDependencies();

/**
 * node's arguments for the command. `start` runs the launcher as plain JavaScript,
 * bundled by the workers' build (scripts/launcher/esbuild-build.mjs) into
 * .build/launcher/start.mjs whenever a source it reads changed, so the process that
 * lives as long as the stack carries no TypeScript compiler. `test` is a developer's
 * tool whose stages (vitest, tsc, eslint) load TypeScript anyway: it stays on tsx.
 * --conditions=react-server: modules shared with the console start with
 * `import "server-only"`, which resolves to an empty module under that condition.
 */
async function commandArgs() {
  if (command !== "start") return ["--conditions=react-server", "--import", "tsx", path.join(root, "scripts", `${command}.ts`)];
  // esbuild is a dependency: importable only now that npm install has run.
  const { build, BuildError, launcherBuild, staleness } = await import("./launcher/esbuild-build.mjs");
  const launcher = launcherBuild(root);
  const why = staleness(launcher);
  if (why !== null) {
    process.stdout.write(`embedline: building the launcher (${why})…\n`);
    try {
      build(launcher);
    } catch (err) {
      if (err instanceof BuildError) fail(`the launcher build failed:\n${err.message}`);
      throw err;
    }
  }
  return ["--conditions=react-server", "--enable-source-maps", path.join(launcher.outDir, "start.mjs")];
}

const child = spawn(process.execPath, [...(await commandArgs()), ...args], { cwd: root, stdio: "inherit" });

// Ctrl-C reaches the whole foreground process group, so the child sees SIGINT
// itself; a SIGTERM sent to this process alone is passed on.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => child.kill("SIGTERM"));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
