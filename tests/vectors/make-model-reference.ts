/**
 * Regenerates tests/vectors/model-reference.json: the bundled models' vectors
 * for a varied set of texts, made by the reference implementation (Python
 * fastembed, tests/vectors/make-model-reference.py) from the same files the
 * service runs (the model cache's model.onnx and tokenizer.json, checked
 * against the digests pinned in lib/embedding/registry.ts).
 *
 *   npx tsx tests/vectors/make-model-reference.ts
 *
 * The Python side runs in its own virtualenv, tests/vectors/.venv, made the
 * way the Spark job's is (scripts/install/spark.ts): `python3 -m venv`, then
 * pip installs the pinned model-reference-requirements.txt; a stamp keyed by
 * that file's digest makes later runs skip the install. Needs the models in
 * the cache (`npm start` or `npm test` installs them; MODEL_CACHE_DIR).
 * Not part of `npm test`: the vectors are committed, the test only reads them.
 *
 *   npx tsx tests/vectors/make-model-reference.ts --sentence-transformers
 *
 * also installs sentence-transformers on PyTorch (model-reference-st-requirements.txt,
 * ~5.8 GB with the CUDA libraries PyPI's torch wheels depend on) and records
 * its vectors beside fastembed's, from the weights of the same ONNX file.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseEnv } from "../../lib/config/env";
import { inheritedEnv } from "../../lib/config/load";
import { modelCacheDir } from "../../lib/embedding/model-cache";
import { localModelFiles, localModels } from "../../lib/embedding/registry";

const here = import.meta.dirname;
const venvDir = path.join(here, ".venv");
const withSentenceTransformers = process.argv.includes("--sentence-transformers");
const requirements = [path.join(here, "model-reference-requirements.txt")];
if (withSentenceTransformers) requirements.push(path.join(here, "model-reference-st-requirements.txt"));
const script = path.join(here, "make-model-reference.py");
const out = path.join(here, "model-reference.json");

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: "inherit", env: inheritedEnv() });
  if (r.status !== 0) {
    process.stderr.write(`make-model-reference: ${cmd} ${args.join(" ")} failed (${r.error?.message ?? `exit ${r.status}`})\n`);
    process.exit(1);
  }
}

function ensureVenv(): string {
  const python = path.join(venvDir, "bin", "python");
  const hash = createHash("sha256");
  for (const file of requirements) hash.update(readFileSync(file));
  const key = hash.digest("hex").slice(0, 16);
  const stamp = path.join(venvDir, `.embedline-packages-${key}`);
  if (existsSync(stamp)) return python;
  if (!existsSync(python)) run("python3", ["-m", "venv", venvDir]);
  run(python, ["-m", "pip", "install", "--disable-pip-version-check", "--quiet", ...requirements.flatMap((r) => ["-r", r])]);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  return python;
}

const cacheDir = modelCacheDir(parseEnv(["MODEL_CACHE_DIR"], inheritedEnv()).MODEL_CACHE_DIR);
const job = {
  models: localModels().map((m) => {
    const files = localModelFiles(cacheDir, m.local);
    return {
      id: m.id,
      shortName: m.shortName,
      dim: m.dim,
      maxTokens: m.maxInputLength,
      pooling: m.local.pooling,
      artifact: m.local.artifact,
      onnx: { path: files.onnx, sha256: m.local.onnx.sha256 },
      tokenizer: { path: files.tokenizer, sha256: m.local.tokenizer.sha256 },
    };
  }),
};

const python = ensureVenv();
const tmp = mkdtempSync(path.join(os.tmpdir(), "model-reference-"));
try {
  const jobFile = path.join(tmp, "job.json");
  writeFileSync(jobFile, JSON.stringify(job));
  run(python, [script, "--job", jobFile, "--out", out, ...(withSentenceTransformers ? ["--sentence-transformers"] : [])]);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
