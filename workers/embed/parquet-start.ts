import { dimensionMismatch, findModel, type EmbeddingCache } from "../../lib/embedding";
import { newestPairs, storedDimension } from "../../lib/parquet/reader";

/**
 * The one line the worker stops with when its model makes vectors of another
 * dimension than its Parquet sink already holds (issue 3: components that store
 * vectors check at start), or null when they agree, the sink is empty or the
 * model is not in the registry (its dimension is then learnt from the service).
 */
export async function parquetDimensionMismatch(dir: string, model: string): Promise<string | null> {
  const modelDim = findModel(model)?.dim;
  if (modelDim === undefined) return null;
  const stored = await storedDimension(dir);
  if (!stored) return null;
  return dimensionMismatch({
    component: `the Parquet sink ${dir} (newest file ${stored.file})`,
    storedDim: stored.dim,
    model,
    modelDim,
    fix: `set EMBED_MODEL to a ${stored.dim}-dim model, or point EMBED_PARQUET_DIR at a new directory (move the old files away) before embedding with ${model}`,
  });
}

/** Two names of one model: the same registry entry, or the same string. */
function sameModel(a: string, b: string): boolean {
  const ma = findModel(a);
  const mb = findModel(b);
  return ma && mb ? ma.id === mb.id : a === b;
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
