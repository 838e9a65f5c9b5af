/**
 * The kNN query schema and answer types live in lib/knn/ (one schema for the
 * console route, the indexers and the tests); this route adds only its body cap.
 */
export { knnQuerySchema, type KnnQuery } from "@/lib/knn/query";
export { consoleKnnAnswerSchema, knnAnswerSchema, knnNeighborSchema, type KnnAnswer, type KnnNeighbor, type KnnInstance, type KnnPartial } from "@/lib/knn/answer";

/**
 * Most bytes of a POST /api/knn/query body. A query is a vector, a doc_id or a
 * text plus a few options: a 384-dim vector is about 8 KB of JSON, and 64 KiB
 * still holds about 3,000 components at full precision.
 */
export const KNN_QUERY_MAX_BYTES = 64 * 1024;
