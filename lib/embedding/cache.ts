import { createHash } from "node:crypto";

/** sha256 over (model, text) with a separator neither can forge. */
export function cacheKey(model: string, text: string): string {
  return createHash("sha256").update(model).update("\0").update(text).digest("hex");
}

/**
 * Bounded LRU of vectors (seed 003). A Map keeps insertion order, so the
 * first key is the least recently used once every hit re-inserts its entry.
 */
export class EmbeddingCache {
  private readonly map = new Map<string, number[]>();
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.map.size;
  }

  get(model: string, text: string): number[] | undefined {
    const key = cacheKey(model, text);
    const v = this.map.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(model: string, text: string, vector: number[]): void {
    if (this.capacity <= 0) return;
    const key = cacheKey(model, text);
    this.map.delete(key);
    this.map.set(key, vector);
    while (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  /** Preload (text, vector) pairs, oldest first, e.g. from the Parquet sink (EMBED_CACHE_WARMUP). */
  warm(model: string, pairs: Iterable<{ text: string; vector: number[] }>): number {
    let n = 0;
    for (const p of pairs) {
      this.set(model, p.text, p.vector);
      n++;
    }
    return n;
  }

  stats() {
    return { size: this.map.size, capacity: this.capacity, hits: this.hits, misses: this.misses };
  }
}
