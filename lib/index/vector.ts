/**
 * Vectors inside the index are unit length: cosine similarity is then a dot
 * product, which both HNSW (inner-product metric) and the exact scan use.
 */

/** L2 norm of `values`. */
export function l2norm(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] as number;
    sum += x * x;
  }
  return Math.sqrt(sum);
}

/**
 * Why `values` has no direction to search by, or null when it has one: all
 * zeros; a norm that overflows a double (finite components such as 1e200 whose
 * squares sum to Infinity: divided by it every component would be 0); or one
 * that underflows to 0 (components such as 1e-200: divided by it every
 * component would be Infinity and every score NaN). The console's kNN schema
 * and the indexer's query API both answer it as a 422.
 */
export function directionProblem(values: ArrayLike<number>): string | null {
  const norm = l2norm(values);
  if (!Number.isFinite(norm)) return "vector norm is not finite (values too large)";
  if (norm > 0) return null;
  return Array.prototype.every.call(values, (x: number) => x === 0)
    ? "vector is all zeros: cosine similarity is undefined for it"
    : "vector norm underflows to 0 (values too small): cosine similarity is undefined for it";
}

/** `values` scaled to unit length, or null for a zero vector (no direction, no cosine). */
export function toUnit(values: ArrayLike<number>): { unit: Float32Array; norm: number } | null {
  const norm = l2norm(values);
  if (!(norm > 0) || !Number.isFinite(norm)) return null;
  const unit = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) unit[i] = (values[i] as number) / norm;
  return { unit, norm };
}

/** Dot product of `q` with the vector at `row` of a flat row-major matrix. */
export function dotRow(q: Float32Array, matrix: Float32Array, row: number): number {
  const dim = q.length;
  const base = row * dim;
  let sum = 0;
  for (let i = 0; i < dim; i++) sum += (q[i] as number) * (matrix[base + i] as number);
  return sum;
}
