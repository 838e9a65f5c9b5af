import { dimensionMismatch, findModel, type EmbeddingCache } from "../../lib/embedding";
import { sameModel } from "../../lib/embedding/model-identity";
import { newestPairs, storedVectors } from "../../lib/parquet/reader";

/**
 * The one line the worker stops with when its Parquet sink already holds
 * vectors of another model (by the newest file's `model` column: MiniLM and bge
 * are both 384-dim, so the dimension alone would let them mix) or of another
 * dimension than the registry gives the model; null when they agree or the
 * sink is empty. A model the registry does not know is judged by name only
 * (its dimension is learnt from the service).
 */
export async function parquetModelMismatch(dir: string, model: string): Promise<string | null> {
  const stored = await storedVectors(dir);
  if (!stored) return null;
  const fix = `point EMBED_PARQUET_DIR at a new directory (or move the old files away) before embedding with ${model}`;
  if (stored.model !== undefined && !sameModel(stored.model, model)) {
    const modelDim = findModel(model)?.dim;
    return `the Parquet sink ${dir} holds vectors of model ${stored.model} (${stored.dim} dims, newest file ${stored.file}) but EMBED_MODEL is ${model}${modelDim === undefined ? "" : ` (${modelDim} dims)`}: vectors of two models in one directory are not comparable. Set EMBED_MODEL=${stored.model} back${findModel(stored.model) ? "" : " (if your embedding service still serves it: the registry no longer knows it)"}, or ${fix}`;
  }
  const modelDim = findModel(model)?.dim;
  if (modelDim === undefined) return null;
  return dimensionMismatch({ component: `the Parquet sink ${dir} (newest file ${stored.file})`, storedDim: stored.dim, model, modelDim, fix: `set EMBED_MODEL to a ${stored.dim}-dim model, or ${fix}` });
}

/**
 * EMBED_CACHE_WARMUP: preload the `n` newest (text, vector) pairs of the sink
 * into the client's cache, so texts seen again after a restart cost no model
 * call. Only rows of this model are taken, and with EMBED_NORMALIZE=0 only raw
 * (not normalised) vectors, so a cache hit emits what the service would have.
 * Vectors come back as float32 (the sink's column type). Returns the count.
 */
export async function warmCacheFromParquet(cache: EmbeddingCache, dir: string, n: number, opts: { model: string; normalize: boolean }): Promise<number> {
  const pairs = await newestPairs(dir, Math.min(n, cache.capacity), (p) => sameModel(p.model, opts.model) && (opts.normalize || !p.normalized));
  // Oldest first, so the newest end up most recently used in the LRU.
  return cache.warm(opts.model, pairs.reverse());
}
