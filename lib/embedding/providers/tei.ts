import type { WireFormat } from "../types";

/**
 * Hugging Face Text Embeddings Inference: POST /embed {inputs, truncate} →
 * number[][]. TEI serves one model, so the model is not sent; `truncate` makes
 * it cut over-long inputs to the model's limit instead of answering 413.
 */
export const teiWire: WireFormat = {
  path: "/embed",
  body: (inputs) => ({ inputs, truncate: true }),
  parse: (json) => ({ vectors: json }),
};
