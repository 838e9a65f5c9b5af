import type { WireFormat } from "../types";

/** Ollama: POST /api/embed {model, input} → {model, embeddings: number[][]}. */
export const ollamaWire: WireFormat = {
  path: "/api/embed",
  body: (input, model) => ({ model, input }),
  parse(json) {
    const j = (json ?? {}) as { embeddings?: unknown; model?: unknown };
    return { vectors: j.embeddings, model: typeof j.model === "string" ? j.model : undefined };
  },
};
