/**
 * TEST DOUBLE of an InferMesh server (the seeds' contract): POST /embed
 * {model, inputs} → {vectors} — or {embeddings}, which some versions answer.
 */
import type { WireDouble } from "./http-double";

export const infermeshDouble = (shape: "vectors" | "embeddings"): WireDouble => ({
  path: "/embed",
  inputs: (body) => (body as { inputs: string[] }).inputs,
  answer: (vectors, body) => ({ [shape]: vectors, model: (body as { model?: string }).model }),
});
