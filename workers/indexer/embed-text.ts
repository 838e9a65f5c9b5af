import { EmbeddingError, EmbeddingRejectedError, type EmbeddingClient } from "../../lib/embedding";
import { sameModel } from "../../lib/embedding/model-identity";
import { ApiError } from "../../lib/http/api-error";
import type { EmbedText } from "./query";

/**
 * Text queries are embedded by the configured embedding service with
 * EMBED_MODEL, the model of the index (bounded by the client's own
 * INFERMESH_TIMEOUT_SEC and retries). A text the service refuses is the
 * caller's 422; an unreachable or misconfigured service is 503; a service that
 * answers with another model (an INFERMESH_URL serving something else) is 409:
 * its vector would be compared with vectors of another model.
 */
export function embedTextWith(client: EmbeddingClient, model: string): EmbedText {
  return async (text) => {
    let answer: Awaited<ReturnType<EmbeddingClient["embed"]>>;
    try {
      answer = await client.embed([text]);
    } catch (err) {
      if (err instanceof EmbeddingRejectedError && err.kind !== "config") throw new ApiError("text_rejected", err.message);
      if (err instanceof EmbeddingError) throw new ApiError("embedding_unavailable", `the embedding service could not embed the text: ${err.message}`);
      throw err;
    }
    if (!sameModel(answer.model, model)) {
      throw new ApiError("model_mismatch", `the embedding service embedded the text with model ${answer.model}, not ${model} (EMBED_MODEL, the index's model): its vector is not comparable with the index's`);
    }
    return answer.vectors[0] as number[];
  };
}
