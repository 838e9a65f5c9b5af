import { findModel } from "./registry";

/**
 * Two names of one model: the same registry entry (its id or short name, in
 * any case: `all-MiniLM-L6-v2` is `sentence-transformers/all-MiniLM-L6-v2`),
 * otherwise the same string. Vectors of two models are not comparable even
 * when their dimensions agree (MiniLM and bge are both 384-dim), so stores
 * check this, not only the dimension.
 */
export function sameModel(a: string, b: string): boolean {
  const ma = findModel(a);
  const mb = findModel(b);
  return ma && mb ? ma.id === mb.id : a === b;
}
