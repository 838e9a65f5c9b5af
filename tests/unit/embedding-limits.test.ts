import { describe, expect, it } from "vitest";
import { modelCacheDir } from "@/lib/embedding/model-cache";
import { findModel } from "@/lib/embedding/registry";
import { ApiError } from "@/lib/http/api-error";
import { checkInputs, resolveRequestModel } from "@/workers/infermesh/limits";
import { modelFiles, ModelTokenizer, resolveLocalModel, tokenReport } from "@/workers/infermesh/local-embedder";

const model = findModel("all-MiniLM-L6-v2")!;
const limits = { maxInputs: 3 };

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
    [undefined, 422, "invalid_inputs", "inputs is required"],
    ["text", 422, "invalid_inputs", "inputs must be an array of strings"],
    [[], 422, "empty_input", "inputs is empty"],
    [["a", "b", "c", "d"], 413, "too_many_inputs", "inputs has 4 items; at most 3 per request"],
    [["a", 7], 422, "invalid_inputs", "inputs[1] must be a string, got number"],
    [["a", null], 422, "invalid_inputs", "inputs[1] must be a string, got null"],
    [["a", ""], 422, "empty_input", "inputs[1] is an empty string"],
  ])("%j → %i %s", (inputs, status, code, message) => {
    const e = errorOf(() => checkInputs(inputs, "inputs", limits));
    expect(e).toBeInstanceOf(ApiError);
    expect([e.status, e.code]).toEqual([status, code]);
    expect(e.message).toContain(message);
  });

  it("passes long inputs through whole: the tokenizer cuts them", () => {
    const long = "word ".repeat(5000);
    expect(checkInputs(["short", long], "inputs", limits).texts).toEqual(["short", long]);
  });

  it("answers 404 for an unknown model and for a known one it has not loaded", () => {
    expect(resolveRequestModel(undefined, model)).toBe(model);
    expect(resolveRequestModel("SENTENCE-TRANSFORMERS/all-minilm-l6-v2", model).id).toBe(model.id);
    const unknown = errorOf(() => resolveRequestModel("gpt-9", model));
    expect([unknown.status, unknown.code]).toEqual([404, "model_not_found"]);
    expect(unknown.message).toContain("unknown model 'gpt-9'");
    const notLoaded = errorOf(() => resolveRequestModel("BAAI/bge-small-en-v1.5", model));
    expect([notLoaded.status, notLoaded.code]).toEqual([404, "model_not_loaded"]);
  });
});

// The models' own tokenizer.json files, from the model cache (`npm test` installs them).
describe.each([
  ["all-MiniLM-L6-v2", 256],
  ["bge-small-en-v1.5", 512],
])("truncation report of %s", (name, limit) => {
  const spec = resolveLocalModel(name);
  const tokenizer = new ModelTokenizer(modelFiles(spec, modelCacheDir(undefined)).tokenizer, spec.maxInputLength);
  const CLS = 101;
  const SEP = 102;
  // "a" is one token in both vocabularies, so n words make n + 2 tokens with [CLS] and [SEP].
  const words = (n: number) => Array.from({ length: n }, () => "a").join(" ");

  it(`cuts at ${limit} tokens, keeps [CLS] and the final [SEP], and reports the full length`, async () => {
    const enc = await tokenizer.encode(["hello world", words(limit - 2), words(limit - 1), words(3000)]);
    expect(enc.map((e) => e.ids.length)).toEqual([4, limit, limit, limit]);
    for (const e of enc) expect([e.ids[0], e.ids.at(-1)]).toEqual([CLS, SEP]);
    // No padding from the tokenizer (MiniLM's tokenizer.json pads to 128): the batch pads, not the tokenizer.
    expect(enc[0]!.ids).toHaveLength(4);
    expect(tokenReport(enc)).toEqual({
      tokens: [4, limit, limit, limit],
      truncated: [
        { index: 2, tokens: limit + 1, kept_tokens: limit },
        { index: 3, tokens: 3002, kept_tokens: limit },
      ],
    });
  });

  it("keeps the first tokens of a cut input, as the reference does", async () => {
    const [cut, head] = await tokenizer.encode([`${words(limit - 2)} zebra giraffe`, words(limit - 2)]);
    expect(cut!.ids).toEqual(head!.ids);
  });

  it("counts an emoji and accented text as the model's tokenizer does, never as characters", async () => {
    const [e] = await tokenizer.encode(["héllo 😀"]);
    expect(e!.ids.length).toBeGreaterThanOrEqual(4);
    expect(e!.fullTokens).toBe(e!.ids.length);
  });
});
