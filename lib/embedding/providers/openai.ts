import type { WireFormat } from "../types";

/** OpenAI-compatible: POST /v1/embeddings {model, input} → {data: [{index, embedding}], model}. */
export const openaiWire: WireFormat = {
  path: "/v1/embeddings",
  body: (input, model) => ({ model, input, encoding_format: "float" }),
  parse(json) {
    const j = (json ?? {}) as { data?: unknown; model?: unknown };
    const model = typeof j.model === "string" ? j.model : undefined;
    if (!Array.isArray(j.data)) return { vectors: undefined, model };
    // The spec gives each item its index; order by it rather than trusting array order.
    const items = j.data as { index?: unknown; embedding?: unknown }[];
    const ordered = items.every((d) => typeof d?.index === "number")
      ? [...items].sort((a, b) => (a.index as number) - (b.index as number))
      : items;
    return { vectors: ordered.map((d) => d?.embedding), model };
  },
};
