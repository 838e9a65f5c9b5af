#!/usr/bin/env node
// Builds usearch's native addon from its sources as patches/usearch+*.patch
// leaves them (npm's postinstall, after patch-package). The patch adds
// `saveAsync`: the emb-indexer writes its HNSW graph on a worker thread and
// keeps answering queries meanwhile; the prebuilt binary usearch ships lacks it.
// The build (≈ 2 min on 2 cores, C++ and a C compiler, python3, make) is cached
// outside the clone by what it is built from, so clones and reinstalls reuse it.
// Plain Node only: it runs before anything else of the project can.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const pkg = path.join(root, "node_modules", "usearch");
const target = path.join(pkg, "build", "Release", "usearch.node");

function fail(message) {
  process.stderr.write(`embedline: ${message}\n`);
  process.exit(1);
}

/** What the binary is built from: the patched binding source, usearch's version, and the Node ABI and platform it loads into. */
function buildKey() {
  const hash = createHash("sha256");
  hash.update(readFileSync(path.join(pkg, "javascript", "lib.cpp")));
  hash.update(readFileSync(path.join(pkg, "package.json")));
  hash.update(`${process.versions.modules} ${process.versions.napi} ${process.platform} ${process.arch}`);
  return hash.digest("hex").slice(0, 16);
}

/** npm's own node-gyp, next to npm in Node's install (Debian's nodejs, the official tarballs, nvm). */
function nodeGyp() {
  const bundled = path.resolve(process.execPath, "../../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js");
  if (!existsSync(bundled)) fail(`cannot find npm's node-gyp at ${bundled}`);
  return bundled;
}

/** The headers of the running Node when its install has them (Debian's nodejs, the official tarballs), so node-gyp needs no download. */
function nodeDirArgs() {
  const prefix = path.resolve(process.execPath, "../..");
  return existsSync(path.join(prefix, "include", "node", "node_api.h")) ? [`--nodedir=${prefix}`] : [];
}

/** The built addon loads and has the patch's method. */
function verify(file) {
  const { CompiledIndex } = createRequire(import.meta.url)(file);
  const index = new CompiledIndex(4, "ip", "f32", 16, 64, 64, false);
  if (typeof index.saveAsync !== "function") fail(`${file} lacks saveAsync: is patches/usearch+*.patch applied (patch-package)?`);
}

const cacheDir = path.join(os.homedir(), ".cache", "embedline", "native");
const cached = path.join(cacheDir, `usearch-${buildKey()}.node`);
if (!existsSync(cached)) {
  process.stdout.write("embedline: building usearch's native addon with the async save patch (once per version, ≈ 2 min)…\n");
  const result = spawnSync(process.execPath, [nodeGyp(), "rebuild", "--jobs=max", ...nodeDirArgs()], { cwd: pkg, stdio: "inherit" });
  if (result.status !== 0) fail("building usearch failed (see above): it needs python3, make and a C/C++ compiler (Debian: apt-get install python3 make g++)");
  verify(target);
  mkdirSync(cacheDir, { recursive: true });
  copyFileSync(target, `${cached}.tmp`);
  renameSync(`${cached}.tmp`, cached);
}
// Only the binary stays: node-gyp-build loads build/Release before usearch's prebuilds.
rmSync(path.join(pkg, "build"), { recursive: true, force: true });
mkdirSync(path.dirname(target), { recursive: true });
copyFileSync(cached, target);
verify(target);
