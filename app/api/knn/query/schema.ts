// The kNN query schema and answer types live in lib/knn/ only (one schema for
// the console route, the indexers and the tests: import them from there); this
// route adds only its body cap.

/**
 * Most bytes of a POST /api/knn/query body. A query is a vector, a doc_id or a
 * text plus a few options: a 384-dim vector is about 8 KB of JSON, and 64 KiB
 * still holds about 3,000 components at full precision.
 */
export const KNN_QUERY_MAX_BYTES = 64 * 1024;
