import { findModel, type ModelSpec } from "../../lib/embedding/registry";
import { ApiError } from "../../lib/http/api-error";

/** An input cut at the model's token limit (keeping the final [SEP]), as the reference implementations cut it. */
export interface Truncation {
  index: number;
  /** Tokens of the input as sent, with [CLS]/[SEP]. */
  tokens: number;
  /** Tokens actually embedded: the model's limit. */
  kept_tokens: number;
}

export interface CheckedInputs {
  texts: string[];
}

export interface Limits {
  maxInputs: number;
}

/**
 * The model a request names (or the served one when it names none): 404 for a
 * name nobody knows, and for a known model this service has not loaded.
 */
export function resolveRequestModel(requested: unknown, served: ModelSpec): ModelSpec {
  if (requested === undefined || requested === null || requested === "") return served;
  if (typeof requested !== "string") throw new ApiError("invalid_model", "model must be a string");
  const spec = findModel(requested);
  if (!spec) throw new ApiError("model_not_found", `unknown model '${clip(requested)}': this service serves ${served.shortName} (${served.id}); GET /models lists the registry`);
  if (spec.id !== served.id) throw new ApiError("model_not_loaded", `model ${spec.shortName} is not loaded here: this service serves ${served.shortName}`);
  return spec;
}

/**
 * Check a request's inputs against the limits, in the order a client would
 * fix them: shape, count, each element. Over-long inputs are not refused: the
 * tokenizer cuts them at the model's token limit and the answer says which.
 */
export function checkInputs(inputs: unknown, field: string, limits: Limits): CheckedInputs {
  if (inputs === undefined) throw new ApiError("invalid_inputs", `${field} is required: an array of strings`);
  if (!Array.isArray(inputs)) throw new ApiError("invalid_inputs", `${field} must be an array of strings`);
  if (inputs.length === 0) throw new ApiError("empty_input", `${field} is empty: send at least one string`);
  if (inputs.length > limits.maxInputs) {
    throw new ApiError("too_many_inputs", `${field} has ${inputs.length} items; at most ${limits.maxInputs} per request (INFERMESH_MAX_INPUTS): split the batch`);
  }
  const texts: string[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const t: unknown = inputs[i];
    if (typeof t !== "string") throw new ApiError("invalid_inputs", `${field}[${i}] must be a string, got ${describe(t)}`);
    if (t.length === 0) throw new ApiError("empty_input", `${field}[${i}] is an empty string`);
    texts.push(t);
  }
  return { texts };
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v;
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
