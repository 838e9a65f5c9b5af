/** TEST DOUBLE of Text Embeddings Inference: POST /embed {inputs, truncate?, normalize?} → number[][]. */
import type { WireDouble } from "./http-double";

export const teiDouble: WireDouble = {
  path: "/embed",
  inputs: (body) => {
    const i = (body as { inputs: string | string[] }).inputs;
    return typeof i === "string" ? [i] : i;
  },
  answer: (vectors) => vectors,
};
