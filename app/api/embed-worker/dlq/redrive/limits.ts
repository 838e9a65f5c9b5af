/**
 * Most bytes of a POST /api/embed-worker/dlq/redrive body: the ids of the
 * entries to redrive (or "all") and a few options. A usual id
 * (`kafka:embeddings_dlq:0:123456`) takes about 33 bytes of JSON, so 256 KiB
 * holds some 7,000 of them; past that, redrive `"all"` of the newest `limit`.
 */
export const REDRIVE_MAX_BYTES = 256 * 1024;
