import { sameModel } from "../../lib/embedding/model-identity";
import { findModel } from "../../lib/embedding/registry";
import type { IndexModel } from "../../lib/index/vector-index";

/**
 * What the emb-indexer does at start about the model of the index it opened
 * and the one it is configured with (EMBED_MODEL, which text queries are
 * embedded with and records must be of): `refuse` with one line naming both
 * and the fix, or go on, with a `warn`ing line when the index's model could
 * not be known. Vectors of two models are not comparable even at one
 * dimension (MiniLM and bge are both 384-dim), so the model is checked, not
 * only the dimension.
 */
export function checkIndexModel(args: { dir: string; held: IndexModel; dim: number | undefined; configured: string }): { refuse?: string; warn?: string } {
  const { dir, held, dim, configured } = args;
  const configuredDim = findModel(configured)?.dim;
  const dims = (d: number | undefined) => (d === undefined ? "" : ` (${d} dims)`);
  const rebuild = `stop the indexer and delete ${dir} to rebuild it from the topic with ${configured}`;
  if (held.source === "empty") return {};
  if (held.source === "unknown") {
    if (held.models.length > 1) {
      return { refuse: `the index in ${dir} holds vectors of several models (${held.models.join(", ")}), written before the index kept its model, and EMBED_MODEL is ${configured}: their vectors are not comparable; ${rebuild}` };
    }
    if (dim !== undefined && configuredDim !== undefined && dim !== configuredDim) {
      return { refuse: `the index in ${dir} holds ${dim}-dim vectors of an unknown model but EMBED_MODEL ${configured} makes ${configuredDim}-dim vectors: ${rebuild}` };
    }
    return { warn: `the index in ${dir} does not say which model its vectors are of (written before it kept the model): taken to be ${configured}; if it is not, ${rebuild}` };
  }
  if (!sameModel(held.name, configured)) {
    return {
      refuse: `the index in ${dir} holds vectors of model ${held.name}${dims(dim)} but EMBED_MODEL is ${configured}${dims(configuredDim)}: vectors of two models are not comparable. Set EMBED_MODEL=${held.name} back${findModel(held.name) ? "" : " (if your embedding service still serves it: the registry no longer knows it)"}, or ${rebuild}`,
    };
  }
  if (dim !== undefined && configuredDim !== undefined && dim !== configuredDim) {
    return { refuse: `the index in ${dir} holds ${dim}-dim vectors of ${held.name} but the registry's ${configured} makes ${configuredDim}-dim vectors: ${rebuild}` };
  }
  return {};
}
