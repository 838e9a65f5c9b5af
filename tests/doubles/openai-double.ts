/**
 * TEST DOUBLE of an OpenAI-compatible embeddings API: POST /v1/embeddings
 * {model, input, encoding_format} → {object: "list", data: [{object, index, embedding}], model, usage}.
 * Items are answered in reverse order: the spec gives each its index, and a client must use it.
 */
import type { WireDouble } from "./http-double";

export const openaiDouble: WireDouble = {
  path: "/v1/embeddings",
  inputs: (body) => {
    const i = (body as { input: string | string[] }).input;
    return typeof i === "string" ? [i] : i;
  },
  answer: (vectors, body) => ({
    object: "list",
    data: vectors.map((embedding, index) => ({ object: "embedding", index, embedding })).reverse(),
    model: (body as { model: string }).model,
    usage: { prompt_tokens: 1, total_tokens: 1 },
  }),
};
