import { BadEmbeddingResponseError } from "./errors";

/**
 * Check an upstream's vectors: one per input, all the same non-zero length,
 * every component a finite number. Returns them typed or throws.
 */
export function checkVectors(raw: unknown, expectedCount: number): number[][] {
  if (!Array.isArray(raw)) throw new BadEmbeddingResponseError("vectors are not an array");
  if (raw.length !== expectedCount) {
    throw new BadEmbeddingResponseError(`expected ${expectedCount} vector${expectedCount === 1 ? "" : "s"}, got ${raw.length}`);
  }
  let dim = -1;
  raw.forEach((v: unknown, i) => {
    if (!Array.isArray(v)) throw new BadEmbeddingResponseError(`vector ${i} is not an array`);
    if (v.length === 0) throw new BadEmbeddingResponseError(`vector ${i} is empty`);
    if (dim === -1) dim = v.length;
    else if (v.length !== dim) throw new BadEmbeddingResponseError(`vector ${i} has ${v.length} dimensions, vector 0 has ${dim}`);
    for (let j = 0; j < v.length; j++) {
      const x: unknown = v[j];
      if (typeof x !== "number" || !Number.isFinite(x)) {
        throw new BadEmbeddingResponseError(`vector ${i} has a non-finite component at ${j}`);
      }
    }
  });
  return raw as number[][];
}
