import { parseEnv, type RawEnv } from "./env";
import { parseEmbeddingServiceUrls } from "./shared";

/**
 * Configuration of a client of the embedding service (embed-worker, console's
 * text search): which server, which wire format, how patiently.
 */
export function parseEmbeddingClientConfig(env: RawEnv) {
  const e = parseEnv(
    [
      "EMBED_PROVIDER",
      "EMBED_MODEL",
      "INFERMESH_API_KEY",
      "INFERMESH_TIMEOUT_SEC",
      "INFERMESH_RETRIES",
      "INFERMESH_BACKOFF_SEC",
      "EMBED_HTTP_CONNECTIONS",
      "EMBED_CACHE_SIZE",
    ],
    env,
  );
  return {
    provider: e.EMBED_PROVIDER,
    /** Instances of one embedding service (INFERMESH_URL, comma-separated); the client balances over them. */
    urls: parseEmbeddingServiceUrls(env).urls,
    model: e.EMBED_MODEL,
    /** Secret: sent as a bearer token, never logged. */
    apiKey: e.INFERMESH_API_KEY,
    timeoutMs: Math.round(e.INFERMESH_TIMEOUT_SEC * 1000),
    retries: e.INFERMESH_RETRIES,
    backoffMs: Math.round(e.INFERMESH_BACKOFF_SEC * 1000),
    connections: e.EMBED_HTTP_CONNECTIONS,
    cacheSize: e.EMBED_CACHE_SIZE,
  };
}

export type EmbeddingClientConfig = ReturnType<typeof parseEmbeddingClientConfig>;
