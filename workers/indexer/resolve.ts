import { z } from "zod";
import { ApiError } from "../../lib/http/api-error";
import { toUnit } from "../../lib/index/vector";
import type { VectorIndex } from "../../lib/index/vector-index";
import { MAX_DOC_ID_CHARS, MAX_QUERY_TEXT_CHARS } from "../../lib/knn/query";
import { textUnit, type EmbedText } from "./query";

/**
 * Body of POST /knn/resolve: exactly one of `doc_id` or `text`. The console
 * resolves a query to one vector here once, then sends that vector to every
 * indexer of the group (a text is embedded once, not once per instance; a
 * doc_id is held by one instance only).
 */
export const knnResolveSchema = z
  .object({
    doc_id: z.string().min(1, "doc_id is empty").max(MAX_DOC_ID_CHARS, `doc_id is longer than ${MAX_DOC_ID_CHARS} characters`).optional(),
    text: z.string().trim().min(1, "text is empty").max(MAX_QUERY_TEXT_CHARS, `text is longer than ${MAX_QUERY_TEXT_CHARS} characters`).optional(),
  })
  .strict()
  .superRefine((q, ctx) => {
    const given = (["doc_id", "text"] as const).filter((f) => q[f] !== undefined);
    if (given.length !== 1) ctx.addIssue({ code: "custom", message: `give exactly one of doc_id or text (got ${given.length === 0 ? "none" : given.join(" and ")})` });
  });

export type KnnResolve = z.output<typeof knnResolveSchema>;

export interface KnnResolveAnswer {
  /** The query's unit vector. */
  vector: number[];
  dim: number;
  /** The document's model (doc_id), or the model texts are embedded with (the index's, else EMBED_MODEL). */
  model: string | null;
}

/**
 * The unit vector of a doc_id this instance holds (404 `unknown_doc_id`
 * otherwise: another instance may hold it) or of a text, embedded with the
 * index's model (the same errors as a text query).
 */
export async function resolveQuery(index: VectorIndex, q: KnnResolve, embedText: EmbedText, textModel: string | null): Promise<KnnResolveAnswer> {
  if (q.doc_id !== undefined) {
    const found = index.locate(q.doc_id);
    if (!found) throw new ApiError("unknown_doc_id", `this indexer holds no document with doc_id ${JSON.stringify(q.doc_id)}`);
    // The index keeps unit vectors; normalising again costs nothing and holds whatever the storage's rounding did.
    const unit = toUnit(Array.from(found.vector))?.unit ?? found.vector;
    return { vector: Array.from(unit), dim: unit.length, model: found.meta.model };
  }
  const unit = await textUnit(index, q.text as string, embedText);
  return { vector: Array.from(unit), dim: unit.length, model: index.model ?? textModel };
}
