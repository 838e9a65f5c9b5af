import { BadEmbeddingResponseError } from "./errors";
import { wireFormats, type ProviderName } from "./providers";
import { checkVectors } from "./validate";
import { vectorJsonTexts } from "./vector-json";

/** An upstream's answer, read: its vectors (checked), their JSON texts when found, the model it named. */
export interface DecodedAnswer {
  vectors: number[][];
  vectorsJson?: string[];
  model?: string;
}

/**
 * Read `provider`'s answer body for `expectedCount` inputs, or throw
 * BadEmbeddingResponseError.
 */
export function decodeAnswer(provider: ProviderName, text: string, expectedCount: number): DecodedAnswer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BadEmbeddingResponseError("body is not JSON");
  }
  const parsed = wireFormats[provider].parse(json);
  const vectors = checkVectors(parsed.vectors, expectedCount);
  return { vectors, vectorsJson: vectorJsonTexts(text, vectors), model: parsed.model };
}
