/** TEST DOUBLE of Ollama: POST /api/embed {model, input} → {model, embeddings: number[][]}. */
import type { WireDouble } from "./http-double";

export const ollamaDouble: WireDouble = {
  path: "/api/embed",
  inputs: (body) => {
    const i = (body as { input: string | string[] }).input;
    return typeof i === "string" ? [i] : i;
  },
  answer: (embeddings, body) => ({ model: (body as { model: string }).model, embeddings, total_duration: 1, load_duration: 0, prompt_eval_count: 1 }),
};
