/**
 * The bundled models give the reference implementations' vectors: for each
 * text of tests/vectors/model-reference.json (unicode, emoji, very short,
 * beyond the token limit…), made by Python fastembed from the same cached
 * model.onnx and tokenizer.json, and by sentence-transformers on PyTorch
 * from the same weights (tests/vectors/make-model-reference.ts), the
 * in-process embedder — the service's code path — must give cos ≥ 0.9999,
 * whether the text is embedded alone, in one batch with all the others
 * (padded to the longest), or in shuffled batches of mixed lengths; vectors
 * are unit length, and the token counts and truncation report agree with the
 * reference's tokenizer. The real models, loaded once per model.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEnv } from "../../lib/config/env";
import { inheritedEnv } from "../../lib/config/load";
import { modelCacheDir } from "../../lib/embedding/model-cache";
import { findModel } from "../../lib/embedding/registry";
import { openLocalEmbedder, type EmbedOutput, type LocalEmbedder } from "../../workers/infermesh/local-embedder";

interface ReferenceText {
  name: string;
  text: string;
  /** Tokens with [CLS]/[SEP], untruncated. */
  tokens: number;
  /** Tokens the reference embedded (cut at maxTokens, [SEP] kept). */
  kept_tokens: number;
  /** Python fastembed's vector. */
  vector: number[];
  /** sentence-transformers' (PyTorch, same weights), when the generator ran it. */
  st_vector?: number[];
}

interface ReferenceModel {
  id: string;
  shortName: string;
  maxTokens: number;
  artifact: { artifactId: string; version: string };
  files: { onnx: { sha256: string }; tokenizer: { sha256: string } };
  texts: ReferenceText[];
}

/** The bar: the same vector as the reference, to float32 noise. */
const MIN_COS = 0.9999;

const reference = JSON.parse(readFileSync(path.join(import.meta.dirname, "../vectors/model-reference.json"), "utf8")) as { models: ReferenceModel[] };
const cacheDir = modelCacheDir(parseEnv(["MODEL_CACHE_DIR"], inheritedEnv()).MODEL_CACHE_DIR);

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return dot / Math.sqrt(na * nb);
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] as number) ** 2;
  return Math.sqrt(s);
}

/** Deterministic shuffle (mulberry32), so a failure names the same batches every run. */
function shuffled<T>(items: T[], seed: number): T[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * Every way `out` (the embedder's answer for `texts`, in order) departs from
 * the reference: one line per text, naming it, so a failure shows them all.
 */
function departures(texts: ReferenceText[], out: EmbedOutput, where: string): string[] {
  const problems: string[] = [];
  if (out.vectors.length !== texts.length) return [`${where}: ${out.vectors.length} vectors for ${texts.length} texts`];
  texts.forEach((t, i) => {
    const v = out.vectors[i] as Float32Array;
    for (const [who, ref] of [
      ["fastembed", t.vector],
      ["sentence-transformers", t.st_vector],
    ] as const) {
      if (!ref) continue;
      const cos = cosine(v, ref);
      if (!(cos >= MIN_COS)) problems.push(`${where} ${t.name}: cos ${cos} with ${who} (1 - cos = ${1 - cos})`);
    }
    const n = norm(v);
    if (!(Math.abs(n - 1) < 1e-5)) problems.push(`${where} ${t.name}: norm ${n}, expected 1`);
    if (out.tokens[i] !== t.kept_tokens) problems.push(`${where} ${t.name}: embedded ${out.tokens[i]} tokens, the reference ${t.kept_tokens}`);
    const cut = out.truncated.filter((c) => c.index === i);
    const said = cut.map((c) => `${c.tokens}->${c.kept_tokens}`).join(", ") || "not cut";
    const want = t.tokens > t.kept_tokens ? `${t.tokens}->${t.kept_tokens}` : "not cut";
    if (said !== want) problems.push(`${where} ${t.name}: truncation reported ${said}, expected ${want}`);
  });
  const stray = out.truncated.filter((c) => c.index < 0 || c.index >= texts.length);
  if (stray.length > 0) problems.push(`${where}: truncation reported for indexes ${stray.map((c) => c.index).join(", ")}`);
  return problems;
}

describe.each(reference.models)("$shortName gives the reference vectors", (model) => {
  let embedder: LocalEmbedder;

  beforeAll(async () => {
    embedder = await openLocalEmbedder({ model: model.shortName, cacheDir });
  });
  afterAll(async () => {
    await embedder?.close();
  });

  it("the reference was made from the files and limit the registry pins", () => {
    const spec = findModel(model.id);
    expect(spec?.local, `${model.id} is a bundled model`).toBeDefined();
    const local = spec?.local;
    expect({
      artifact: `${local?.artifact.artifactId}:${local?.artifact.version}`,
      onnx: local?.onnx.sha256,
      tokenizer: local?.tokenizer.sha256,
      maxTokens: spec?.maxInputLength,
    }).toEqual({
      artifact: `${model.artifact.artifactId}:${model.artifact.version}`,
      onnx: model.files.onnx.sha256,
      tokenizer: model.files.tokenizer.sha256,
      maxTokens: model.maxTokens,
    });
    expect(embedder.dim).toBe(model.texts[0]?.vector.length);
    // The set exercises what it claims to: very short inputs, and inputs cut at this model's limit.
    expect(model.texts.some((t) => t.tokens <= 3)).toBe(true);
    expect(model.texts.filter((t) => t.tokens > model.maxTokens).length).toBeGreaterThanOrEqual(3);
  });

  it("each text alone", async () => {
    const problems: string[] = [];
    for (const t of model.texts) problems.push(...departures([t], await embedder.embed([t.text]), "alone"));
    expect(problems).toEqual([]);
  });

  it("all texts in one batch, padded to the longest", async () => {
    const out = await embedder.embed(model.texts.map((t) => t.text));
    expect(departures(model.texts, out, "one batch")).toEqual([]);
  });

  it("shuffled batches of mixed lengths", async () => {
    // Batch sizes that mix short inputs with ones at or past the limit in most batches.
    const sizes = [2, 3, 5, 7, 11];
    const order = shuffled(model.texts, 12);
    const problems: string[] = [];
    for (let at = 0, k = 0; at < order.length; k++) {
      const batch = order.slice(at, at + (sizes[k % sizes.length] as number));
      at += batch.length;
      problems.push(...departures(batch, await embedder.embed(batch.map((t) => t.text)), `batch ${k} [${batch.map((t) => t.name).join(", ")}]`));
    }
    expect(problems).toEqual([]);
  });
});
