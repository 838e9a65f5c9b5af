import { describe, expect, it } from "vitest";
import { findModel } from "@/lib/embedding/registry";
import { ApiError } from "@/lib/http/api-error";
import { checkInputs, resolveRequestModel, truncate } from "@/workers/infermesh/limits";

const model = { ...findModel("use-lite")!, maxInputLength: 5 };
const limits = { maxInputs: 3, model };

function errorOf(f: () => unknown): ApiError {
  try {
    f();
  } catch (e) {
    return e as ApiError;
  }
  throw new Error("expected an ApiError");
}

describe("request limits of the embedding service", () => {
  it.each([
    [undefined, 422, "missing_inputs", "inputs is required"],
    ["text", 422, "invalid_inputs", "inputs must be an array of strings"],
    [[], 422, "empty_inputs", "inputs is empty"],
    [["a", "b", "c", "d"], 413, "too_many_inputs", "inputs has 4 items; at most 3 per request"],
    [["a", 7], 422, "non_string_input", "inputs[1] must be a string, got number"],
    [["a", null], 422, "non_string_input", "inputs[1] must be a string, got null"],
    [["a", ""], 422, "empty_input", "inputs[1] is an empty string"],
  ])("%j → %i %s", (inputs, status, code, message) => {
    const e = errorOf(() => checkInputs(inputs, "inputs", limits));
    expect(e).toBeInstanceOf(ApiError);
    expect([e.status, e.code]).toEqual([status, code]);
    expect(e.message).toContain(message);
  });

  it("cuts over-long inputs to the model's limit and reports which, in code points", () => {
    const res = checkInputs(["short", "much too long", "😀😀😀😀😀😀"], "inputs", limits);
    expect(res.texts).toEqual(["short", "much ", "😀😀😀😀😀"]);
    expect(res.truncated).toEqual([
      { index: 1, text_len: 13, truncated_len: 5 },
      { index: 2, text_len: 6, truncated_len: 5 },
    ]);
  });

  it("never splits a surrogate pair", () => {
    expect(truncate("a😀b", 2)).toBe("a😀");
    expect(truncate("😀😀", 2)).toBe("😀😀");
  });

  it("answers 404 for an unknown model and for a known one it has not loaded", () => {
    expect(resolveRequestModel(undefined, model)).toBe(model);
    expect(resolveRequestModel("USE-LITE", model).id).toBe(model.id);
    const unknown = errorOf(() => resolveRequestModel("gpt-9", model));
    expect([unknown.status, unknown.code]).toEqual([404, "model_not_found"]);
    expect(unknown.message).toContain("unknown model 'gpt-9'");
    const notLoaded = errorOf(() => resolveRequestModel("minilm-l6-v2", model));
    expect([notLoaded.status, notLoaded.code]).toEqual([404, "model_not_loaded"]);
  });
});
