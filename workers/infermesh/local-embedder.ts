/**
 * The bundled models' one code path: tokenize (HF `tokenizers`, the model's
 * own tokenizer.json) → one onnxruntime call padded to the longest input →
 * pooling (`mean` over the attention mask as sentence-transformers does, or
 * `cls` as fastembed does for BGE) → L2 normalisation.
 *
 * Two halves, because the service splits them across threads: the tokenizer
 * runs where requests arrive (its encode is async native code, and the
 * batcher needs each input's token count), the session runs in a worker
 * thread (onnxruntime-node's run blocks its thread). `openLocalEmbedder`
 * joins them in the calling thread, for tests and the bench.
 */
import fs from "node:fs";
import * as ort from "onnxruntime-node";
import { Tokenizer } from "tokenizers";
import { modelCacheDir } from "../../lib/embedding/model-cache";
import { findLocalModel, findModel, localModelFiles, localModelNames, type LocalSpec } from "../../lib/embedding/registry";

export interface EmbedOutput {
  vectors: Float32Array[];
  tokens: number[];
  truncated: { index: number; tokens: number; kept_tokens: number }[];
}

export interface LocalEmbedder {
  readonly dim: number;
  embed(texts: string[]): Promise<EmbedOutput>;
  close(): Promise<void>;
}


/** An input as the model takes it: token ids with [CLS]/[SEP], cut at the model's limit. */
export interface Encoded {
  ids: number[];
  /** Tokens before truncation (with [CLS]/[SEP]); equals ids.length unless the input was cut. */
  fullTokens: number;
}

/** The registry entry of a model the bundled service can run, or an Error saying which names can. */
export function resolveLocalModel(name: string): LocalSpec {
  const local = findLocalModel(name);
  if (local) return local;
  const spec = findModel(name);
  const known = localModelNames();
  throw new Error(spec ? `model ${spec.shortName} is served by a ${spec.provider} upstream, not bundled: expected ${known}` : `unknown model '${name}': expected ${known}`);
}

/**
 * The model's two files in the cache, checked to be there and whole (their
 * pinned sizes); otherwise one line naming the file and the fix.
 */
export function modelFiles(spec: LocalSpec, cacheDir: string): { onnx: string; tokenizer: string } {
  const files = localModelFiles(cacheDir, spec.local);
  for (const [path, pinned] of [
    [files.onnx, spec.local.onnx],
    [files.tokenizer, spec.local.tokenizer],
  ] as const) {
    let size: number;
    try {
      size = fs.statSync(path).size;
    } catch {
      throw new Error(`model file ${path} is missing: \`npm start\` and \`npm test\` install the models (MODEL_CACHE_DIR=${cacheDir})`);
    }
    if (size !== pinned.bytes) {
      throw new Error(`model file ${path} is ${size} bytes, expected ${pinned.bytes}: delete it and run \`npm start\` or \`npm test\` to install the model again`);
    }
  }
  return files;
}

/**
 * The model's tokenizer with the reference's settings: truncation at the
 * model's limit (the post-processor then adds [CLS]/[SEP], so the final
 * [SEP] is kept, as in sentence-transformers and fastembed), no padding (the
 * MiniLM tokenizer.json pads to a fixed 128; a batch is padded to its
 * longest input instead).
 */
export class ModelTokenizer {
  private readonly cut: Tokenizer;
  /** Untruncated, used only for inputs that reach the limit, to report their full length. */
  private readonly whole: Tokenizer;

  constructor(
    tokenizerFile: string,
    readonly maxTokens: number,
  ) {
    this.cut = Tokenizer.fromFile(tokenizerFile);
    this.cut.disablePadding();
    this.cut.setTruncation(maxTokens);
    this.whole = Tokenizer.fromFile(tokenizerFile);
    this.whole.disablePadding();
    this.whole.disableTruncation();
  }

  async encode(texts: string[]): Promise<Encoded[]> {
    return Promise.all(
      texts.map(async (t) => {
        const ids = (await this.cut.encode(t)).getIds();
        const fullTokens = ids.length < this.maxTokens ? ids.length : (await this.whole.encode(t)).getLength();
        return { ids, fullTokens };
      }),
    );
  }
}

export interface SessionOptions {
  intraOpThreads?: number;
  /**
   * onnxruntime's CPU memory arena (keeps a call's blocks for the next); on
   * unless set false. Measured on 2 cores at INFERMESH_MAX_BATCH_TOKENS 2048:
   * without it the peak RSS was not lower but higher (glibc's per-thread
   * heaps fragment: bge 830–1340 MB vs 470–510 MB) and bge ran 5–20% slower; the
   * padded-token budget, not the arena, bounds the memory.
   */
  memArena?: boolean;
}

/**
 * One onnxruntime session of a model, and the pooling of its output.
 * The model call inside `run` is synchronous native code: it blocks the
 * calling thread for its whole duration.
 */
export class ModelSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly dim: number,
    private readonly pooling: "mean" | "cls",
  ) {}

  static async open(onnxFile: string, spec: LocalSpec, opts: SessionOptions = {}): Promise<ModelSession> {
    const session = await ort.InferenceSession.create(onnxFile, {
      intraOpNumThreads: opts.intraOpThreads ?? 1,
      // The graph is one chain of layers: nothing for inter-op threads to run side by side.
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
      enableCpuMemArena: opts.memArena ?? true,
    });
    return new ModelSession(session, spec.dim, spec.local.pooling);
  }

  /**
   * Embed a batch of token id sequences in one call, padded to the longest
   * (attention_mask and token_type_ids 0 on the padding). Returns rows × dim,
   * row-major, each row L2-normalised. The call itself blocks this thread
   * (onnxruntime-node runs it synchronously, a turn of the event loop later).
   */
  async run(batch: ArrayLike<number>[]): Promise<Float32Array> {
    const rows = batch.length;
    const seq = batch.reduce((m, ids) => Math.max(m, ids.length), 0);
    const ids = new BigInt64Array(rows * seq);
    const mask = new BigInt64Array(rows * seq);
    for (let r = 0; r < rows; r++) {
      const row = batch[r] as ArrayLike<number>;
      for (let j = 0; j < row.length; j++) {
        ids[r * seq + j] = BigInt(row[j] as number);
        mask[r * seq + j] = 1n;
      }
    }
    const shape = [rows, seq];
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.session.inputNames) {
      if (name === "input_ids") feeds[name] = new ort.Tensor("int64", ids, shape);
      else if (name === "attention_mask") feeds[name] = new ort.Tensor("int64", mask, shape);
      else if (name === "token_type_ids") feeds[name] = new ort.Tensor("int64", new BigInt64Array(rows * seq), shape);
      else throw new Error(`model takes an input '${name}' this runtime does not know`);
    }
    const output = await this.session.run(feeds);
    return this.pool(output, batch, rows, seq);
  }

  private pool(output: ort.InferenceSession.OnnxValueMapType, batch: ArrayLike<number>[], rows: number, seq: number): Float32Array {
    const hidden = output.last_hidden_state ?? output[this.session.outputNames[0] as string];
    if (!hidden) throw new Error("model returned no last_hidden_state");
    const dim = this.dim;
    if (hidden.dims.length !== 3 || hidden.dims[0] !== rows || hidden.dims[1] !== seq || hidden.dims[2] !== dim) {
      throw new Error(`model returned shape [${hidden.dims.join(", ")}], expected [${rows}, ${seq}, ${dim}]`);
    }
    const h = hidden.data as Float32Array;
    const out = new Float32Array(rows * dim);
    const acc = new Float64Array(dim);
    for (let r = 0; r < rows; r++) {
      acc.fill(0);
      const base = r * seq * dim;
      if (this.pooling === "cls") {
        for (let k = 0; k < dim; k++) acc[k] = h[base + k] as number;
      } else {
        // Mean over the tokens under the attention mask: the input's own tokens, not the padding.
        const n = (batch[r] as ArrayLike<number>).length;
        for (let j = 0; j < n; j++) {
          const off = base + j * dim;
          for (let k = 0; k < dim; k++) acc[k] = (acc[k] as number) + (h[off + k] as number);
        }
        for (let k = 0; k < dim; k++) acc[k] = (acc[k] as number) / Math.max(n, 1);
      }
      let norm = 0;
      for (let k = 0; k < dim; k++) norm += (acc[k] as number) ** 2;
      // As torch.nn.functional.normalize: divide by max(norm, 1e-12).
      const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
      for (let k = 0; k < dim; k++) out[r * dim + k] = (acc[k] as number) * scale;
    }
    for (const t of Object.values(output)) t.dispose();
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Token counts and the truncation report of encoded inputs. */
export function tokenReport(encoded: Encoded[]): Pick<EmbedOutput, "tokens" | "truncated"> {
  const truncated: EmbedOutput["truncated"] = [];
  encoded.forEach((e, index) => {
    if (e.fullTokens > e.ids.length) truncated.push({ index, tokens: e.fullTokens, kept_tokens: e.ids.length });
  });
  return { tokens: encoded.map((e) => e.ids.length), truncated };
}

/**
 * A bundled model in the calling thread: `embed` runs all the given texts as
 * one onnxruntime call, padded to the longest.
 */
export async function openLocalEmbedder(opts: { model: string; cacheDir?: string; intraOpThreads?: number }): Promise<LocalEmbedder> {
  const spec = resolveLocalModel(opts.model);
  const files = modelFiles(spec, opts.cacheDir ?? modelCacheDir(undefined));
  const tokenizer = new ModelTokenizer(files.tokenizer, spec.maxInputLength);
  const session = await ModelSession.open(files.onnx, spec, { intraOpThreads: opts.intraOpThreads });
  return {
    dim: spec.dim,
    async embed(texts: string[]): Promise<EmbedOutput> {
      if (texts.length === 0) return { vectors: [], tokens: [], truncated: [] };
      const encoded = await tokenizer.encode(texts);
      const flat = await session.run(encoded.map((e) => e.ids));
      const vectors = encoded.map((_, i) => flat.subarray(i * spec.dim, (i + 1) * spec.dim));
      return { vectors, ...tokenReport(encoded) };
    },
    close: () => session.close(),
  };
}
