import { EmbeddingError, EmbeddingRejectedError, type EmbeddingClient } from "../../lib/embedding";
import { ApiError } from "../../lib/http/api-error";
import type { EmbedText } from "./query";

/**
 * Text queries are embedded by the configured embedding service (bounded by
 * the client's own INFERMESH_TIMEOUT_SEC and retries). A text the service
 * refuses is the caller's 422; an unreachable or misconfigured service is 503.
 */
export function embedTextWith(client: EmbeddingClient): EmbedText {
  return async (text) => {
    try {
      const { vectors } = await client.embed([text]);
      return vectors[0] as number[];
    } catch (err) {
      if (err instanceof EmbeddingRejectedError && err.kind !== "config") throw new ApiError(422, "text_rejected", err.message);
      if (err instanceof EmbeddingError) throw new ApiError(503, "embedding_unavailable", `the embedding service could not embed the text: ${err.message}`);
      throw err;
    }
  };
}
