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
