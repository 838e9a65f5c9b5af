import { afterEach, describe, expect, it } from "vitest";
import { EmbeddingCache, cacheKey } from "@/lib/embedding/cache";
import { createProviderClient, withCache } from "@/lib/embedding/client";
import { sameModel } from "@/lib/embedding/model-identity";
import { dimensionMismatch, findModel } from "@/lib/embedding/registry";
import { fakeVector, startDouble, type Double } from "../doubles/http-double";
import { teiDouble } from "../doubles/tei-double";

describe("EmbeddingCache", () => {
  it("keys by model and text, so one text under two models is two entries", () => {
    expect(cacheKey("a", "x")).not.toBe(cacheKey("b", "x"));
    expect(cacheKey("a", "bx")).not.toBe(cacheKey("ab", "x"));
    expect(cacheKey("m", "t")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("evicts the least recently used entry past its capacity and counts hits and misses", () => {
    const c = new EmbeddingCache(2);
    c.set("m", "a", [1]);
    c.set("m", "b", [2]);
    expect(c.get("m", "a")).toEqual([1]); // a is now the most recent
    c.set("m", "c", [3]); // evicts b
    expect(c.get("m", "b")).toBeUndefined();
    expect(c.get("m", "c")).toEqual([3]);
    expect(c.stats()).toEqual({ size: 2, capacity: 2, hits: 2, misses: 1 });
  });

  it("preloads pairs (EMBED_CACHE_WARMUP) keeping the newest when there are more than fit", () => {
    const c = new EmbeddingCache(2);
    expect(c.warm("m", [{ text: "old", vector: [0] }, { text: "mid", vector: [1] }, { text: "new", vector: [2] }])).toBe(3);
    expect(c.get("m", "old")).toBeUndefined();
    expect(c.get("m", "new")).toEqual([2]);
  });
});

describe("withCache", () => {
  let double: Double | undefined;
  afterEach(async () => {
    await double?.close();
    double = undefined;
  });

  it("sends only unseen texts upstream, each once, and answers in input order", async () => {
    double = await startDouble(teiDouble);
    const inner = createProviderClient("tei", { url: double.url, model: "m", apiKey: undefined, timeoutMs: 1000, retries: 0, backoffMs: 1, connections: 1 });
    const c = withCache(inner, new EmbeddingCache(100));
    await c.embed(["a", "bb"]);
    const res = await c.embed(["bb", "ccc", "a", "ccc"]);
    expect(res.vectors).toEqual(["bb", "ccc", "a", "ccc"].map(fakeVector));
    expect(res.cacheHits).toBe(2);
    expect(double.requests.map((r) => (r.body as { inputs: string[] }).inputs)).toEqual([["a", "bb"], ["ccc"]]);

    const all = await c.embed(["a", "ccc"]);
    expect(all).toMatchObject({ cacheHits: 2, attempts: 0, rttMs: 0 });
    expect(double.requests).toHaveLength(2);
    // A caller changing its vector does not change the cache.
    (all.vectors[0] as number[])[0] = 999;
    expect((await c.embed(["a"])).vectors[0]).toEqual(fakeVector("a"));
    await c.close();
  });
});

describe("model registry", () => {
  it("finds models by short name or id and knows the bundled models' dimensions", () => {
    expect(findModel("all-MiniLM-L6-v2")).toMatchObject({ id: "sentence-transformers/all-MiniLM-L6-v2", dim: 384, provider: "local" });
    expect(findModel("Sentence-Transformers/all-MiniLM-L6-v2")?.shortName).toBe("all-MiniLM-L6-v2");
    expect(findModel("BAAI/bge-small-en-v1.5")).toMatchObject({ shortName: "bge-small-en-v1.5", dim: 384, provider: "local" });
    // USE-lite is retired.
    expect(findModel("use-lite")).toBeUndefined();
    expect(findModel("nope")).toBeUndefined();
  });

  it("tells two names of one model from two models, whatever their dimensions", () => {
    expect(sameModel("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")).toBe(true);
    expect(sameModel("BGE-small-en-v1.5", "BAAI/bge-small-en-v1.5")).toBe(true);
    // Both 384-dim, not comparable.
    expect(sameModel("all-MiniLM-L6-v2", "bge-small-en-v1.5")).toBe(false);
    expect(sameModel("my-model", "my-model")).toBe(true);
    expect(sameModel("my-model", "My-Model")).toBe(false);
  });

  it("names both dimensions and the fix when they differ", () => {
    expect(dimensionMismatch({ component: "emb-indexer", storedDim: 384, model: "all-MiniLM-L6-v2", modelDim: 384, fix: "x" })).toBeNull();
    expect(dimensionMismatch({ component: "emb-indexer", storedDim: 512, model: "all-MiniLM-L6-v2", modelDim: 384, fix: "delete ./data/index" })).toBe(
      "emb-indexer holds 512-dim vectors but model all-MiniLM-L6-v2 makes 384-dim vectors: delete ./data/index",
    );
  });
});
