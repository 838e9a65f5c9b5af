import type { WireFormat } from "../types";

/** The seeds' InferMesh contract: POST /embed {model, inputs} → {vectors} or {embeddings}. */
export const infermeshWire: WireFormat = {
  path: "/embed",
  body: (inputs, model) => ({ model, inputs }),
  parse(json) {
    const j = (json ?? {}) as { vectors?: unknown; embeddings?: unknown; model?: unknown };
    return { vectors: j.vectors ?? j.embeddings, model: typeof j.model === "string" ? j.model : undefined };
  },
};
