import { findModel, type ModelSpec } from "../../lib/embedding/registry";
import { ApiError } from "../../lib/http/api-error";

export interface Truncation {
  index: number;
  /** Length of the input as sent, in Unicode code points. */
  text_len: number;
  /** Length actually embedded. */
  truncated_len: number;
}

export interface CheckedInputs {
  texts: string[];
  truncated: Truncation[];
}

export interface Limits {
  maxInputs: number;
  model: ModelSpec;
}

/**
 * The model a request names (or the served one when it names none): 404 for a
 * name nobody knows, and for a known model this service has not loaded.
 */
export function resolveRequestModel(requested: unknown, served: ModelSpec): ModelSpec {
  if (requested === undefined || requested === null || requested === "") return served;
  if (typeof requested !== "string") throw new ApiError(422, "invalid_model", "model must be a string");
  const spec = findModel(requested);
  if (!spec) throw new ApiError(404, "model_not_found", `unknown model '${clip(requested)}': this service serves ${served.shortName} (${served.id}); GET /models lists the registry`);
  if (spec.id !== served.id) throw new ApiError(404, "model_not_loaded", `model ${spec.shortName} is not loaded here: this service serves ${served.shortName}`);
  return spec;
}

/**
 * Check a request's inputs against the limits, in the order a client would
 * fix them: shape, count, each element; then cut over-long inputs to the
 * model's limit and say which ones were cut.
 */
export function checkInputs(inputs: unknown, field: string, limits: Limits): CheckedInputs {
  if (inputs === undefined) throw new ApiError(422, "missing_inputs", `${field} is required: an array of strings`);
  if (!Array.isArray(inputs)) throw new ApiError(422, "invalid_inputs", `${field} must be an array of strings`);
  if (inputs.length === 0) throw new ApiError(422, "empty_inputs", `${field} is empty: send at least one string`);
  if (inputs.length > limits.maxInputs) {
    throw new ApiError(413, "too_many_inputs", `${field} has ${inputs.length} items; at most ${limits.maxInputs} per request (INFERMESH_MAX_INPUTS): split the batch`);
  }
  const texts: string[] = [];
  const truncated: Truncation[] = [];
  const max = limits.model.maxInputLength;
  for (let i = 0; i < inputs.length; i++) {
    const t: unknown = inputs[i];
    if (typeof t !== "string") throw new ApiError(422, "non_string_input", `${field}[${i}] must be a string, got ${describe(t)}`);
    if (t.length === 0) throw new ApiError(422, "empty_input", `${field}[${i}] is an empty string`);
    const cut = truncate(t, max);
    if (cut !== t) truncated.push({ index: i, text_len: codePoints(t), truncated_len: max });
    texts.push(cut);
  }
  return { texts, truncated };
}

/** The first `max` code points of `t` (never splitting a surrogate pair), or `t` itself. */
export function truncate(t: string, max: number): string {
  // A UTF-16 length within the limit means the code-point length is too.
  if (t.length <= max) return t;
  let units = 0;
  let n = 0;
  for (const ch of t) {
    if (n === max) return t.slice(0, units);
    units += ch.length;
    n++;
  }
  return t;
}

function codePoints(t: string): number {
  let n = 0;
  // Every UTF-16 unit except the low half of a surrogate pair starts a code point.
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v;
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
