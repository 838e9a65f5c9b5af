import { describe, expect, it } from "vitest";
import type { IndexModel } from "../../lib/index/vector-index";
import { checkIndexModel } from "../../workers/indexer/model-check";

const dir = "data/index";
const stored = (name: string): IndexModel => ({ source: "stored", name, models: [name] });

describe("emb-indexer start: the model of the index against EMBED_MODEL", () => {
  it("goes on for an empty index and for the model the index holds, by short name or full id", () => {
    expect(checkIndexModel({ dir, held: { source: "empty", name: undefined, models: [] }, dim: undefined, configured: "bge-small-en-v1.5" })).toEqual({});
    expect(checkIndexModel({ dir, held: stored("all-MiniLM-L6-v2"), dim: 384, configured: "all-MiniLM-L6-v2" })).toEqual({});
    expect(checkIndexModel({ dir, held: stored("all-MiniLM-L6-v2"), dim: 384, configured: "sentence-transformers/all-MiniLM-L6-v2" })).toEqual({});
    expect(checkIndexModel({ dir, held: { source: "records", name: "BAAI/bge-small-en-v1.5", models: ["BAAI/bge-small-en-v1.5"] }, dim: 384, configured: "bge-small-en-v1.5" })).toEqual({});
    expect(checkIndexModel({ dir, held: stored("my-model"), dim: 16, configured: "my-model" })).toEqual({});
  });

  it("refuses another model of the same dimension with one line: what the index holds, what is configured, and the fix", () => {
    const { refuse } = checkIndexModel({ dir, held: stored("all-MiniLM-L6-v2"), dim: 384, configured: "bge-small-en-v1.5" });
    expect(refuse).toBe(
      "the index in data/index holds vectors of model all-MiniLM-L6-v2 (384 dims) but EMBED_MODEL is bge-small-en-v1.5 (384 dims): vectors of two models are not comparable. " +
        "Set EMBED_MODEL=all-MiniLM-L6-v2 back, or stop the indexer and delete data/index to rebuild it from the topic with bge-small-en-v1.5",
    );
  });

  it("refuses an index of a retired model (USE-lite, 512 dims) and of a model the registry does not know", () => {
    expect(checkIndexModel({ dir, held: { source: "records", name: "use-lite", models: ["use-lite"] }, dim: 512, configured: "all-MiniLM-L6-v2" }).refuse).toMatch(
      /^the index in data\/index holds vectors of model use-lite \(512 dims\) but EMBED_MODEL is all-MiniLM-L6-v2 \(384 dims\).*EMBED_MODEL=use-lite back \(if your embedding service still serves it: the registry no longer knows it\), or stop the indexer and delete data\/index/,
    );
    expect(checkIndexModel({ dir, held: stored("my-model"), dim: 16, configured: "my-other-model" }).refuse).toMatch(/holds vectors of model my-model \(16 dims\) but EMBED_MODEL is my-other-model:/);
  });

  it("refuses the right model name at a dimension the registry says it does not make", () => {
    expect(checkIndexModel({ dir, held: stored("all-MiniLM-L6-v2"), dim: 16, configured: "all-MiniLM-L6-v2" }).refuse).toMatch(/holds 16-dim vectors of all-MiniLM-L6-v2 but the registry's all-MiniLM-L6-v2 makes 384-dim vectors/);
  });

  it("says so when an index written before it kept its model cannot tell which model it holds", () => {
    const several = checkIndexModel({ dir, held: { source: "unknown", name: undefined, models: ["use-lite", "all-MiniLM-L6-v2"] }, dim: 384, configured: "all-MiniLM-L6-v2" });
    expect(several.refuse).toMatch(/several models \(use-lite, all-MiniLM-L6-v2\).*delete data\/index/);
    const none = checkIndexModel({ dir, held: { source: "unknown", name: undefined, models: [] }, dim: 384, configured: "all-MiniLM-L6-v2" });
    expect(none).toEqual({ warn: expect.stringMatching(/does not say which model.*taken to be all-MiniLM-L6-v2/) });
    expect(checkIndexModel({ dir, held: { source: "unknown", name: undefined, models: [] }, dim: 512, configured: "all-MiniLM-L6-v2" }).refuse).toMatch(/512-dim vectors of an unknown model/);
  });

  it("never writes more than one line", () => {
    const lines = [
      checkIndexModel({ dir, held: stored("all-MiniLM-L6-v2"), dim: 384, configured: "bge-small-en-v1.5" }).refuse,
      checkIndexModel({ dir, held: { source: "unknown", name: undefined, models: ["a", "b"] }, dim: 4, configured: "c" }).refuse,
    ];
    for (const line of lines) expect(line).not.toMatch(/\n/);
  });
});
