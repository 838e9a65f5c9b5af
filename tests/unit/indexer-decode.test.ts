import { describe, expect, it } from "vitest";
import { serializeEmbeddingRecord, type EmbeddingRecord } from "../../lib/records/embedding-record";
import { decodeEmbedding, modelMismatch } from "../../workers/indexer/decode";

const good: EmbeddingRecord = { topic: "t", text: "hello", doc_id: "d-1", vector: [0.5, -1, 2], kafka_ts: 1, embedded_ts: 2, model: "m", dim: 3, normalized: false };
const withVector = (json: string) => Buffer.from(JSON.stringify({ ...good, vector: 0 }).replace('"vector":0', `"vector":${json}`));

describe("indexer: which records can never be indexed", () => {
  it("takes both forms of the embedding record", () => {
    expect(decodeEmbedding(Buffer.from(serializeEmbeddingRecord(good)))).toEqual({ ok: true, record: good });
    const hashed = { ...good, text: undefined, text_sha256: "a".repeat(64), text_len: 5 };
    expect(decodeEmbedding(Buffer.from(JSON.stringify(hashed)))).toMatchObject({ ok: true, record: { doc_id: "d-1" } });
  });

  it.each([
    ["no value", null, "invalid_json", /no value/],
    ["bytes that are not UTF-8", Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), "invalid_unicode", /not valid UTF-8/],
    ["text that is not JSON", Buffer.from("hello {"), "invalid_json", /not JSON/],
    ["a JSON array", Buffer.from("[1,2,3]"), "invalid_json", /not a JSON object/],
    ["100,000 nested arrays", Buffer.from(`${"[".repeat(100_000)}${"]".repeat(100_000)}`), "invalid_json", /not a JSON object/],
    ["an object that is not an embedding record", Buffer.from('{"hello":"world"}'), "invalid_json", /not an embedding record/],
    ["a record without a model", Buffer.from(JSON.stringify({ ...good, model: undefined })), "invalid_json", /model/],
    ["a lone surrogate in doc_id", Buffer.from(JSON.stringify(good).replace('"d-1"', '"\\udc00"')), "invalid_unicode", /doc_id/],
    ["an infinite component", withVector("[1e999,1,1]"), "bad_vector", /vector\.0/],
    ["a string component", withVector('[1,"x",1]'), "bad_vector", /vector\.1/],
    ["a nested vector", withVector(`${"[".repeat(50_000)}${"]".repeat(50_000)}`), "bad_vector", /vector\.0/],
    ["an empty vector", withVector("[]"), "bad_vector", /never empty/],
    ["dim other than the vector's length", Buffer.from(JSON.stringify({ ...good, dim: 4 })), "bad_vector", /dim is 4 but the vector has 3/],
    ["an all-zero vector", withVector("[0,0,0]"), "bad_vector", /no direction/],
  ])("refuses %s", (_what, value, reason, error) => {
    const decoded = decodeEmbedding(value);
    expect(decoded).toMatchObject({ ok: false, reason });
    expect(!decoded.ok && decoded.error).toMatch(error);
  });

  it("keeps what it could read for the dead letter", () => {
    const decoded = decodeEmbedding(Buffer.from(JSON.stringify({ ...good, dim: 9 })));
    expect(decoded).toMatchObject({ ok: false, partial: { doc_id: "d-1", model: "m", topic: "t", text: "hello", kafka_ts: 1 } });
  });

  it("refuses a valid record of another model than the index holds as model_mismatch, same dimension included", () => {
    const mini = { model: "all-MiniLM-L6-v2", dim: 3 };
    const of = (model: string, extra: Partial<EmbeddingRecord> = {}) => Buffer.from(serializeEmbeddingRecord({ ...good, model, ...extra }));
    // A short name and the full id are one model.
    expect(decodeEmbedding(of("sentence-transformers/all-MiniLM-L6-v2"), mini)).toMatchObject({ ok: true });
    expect(decodeEmbedding(of("ALL-MINILM-L6-V2"), mini)).toMatchObject({ ok: true });
    const bge = decodeEmbedding(of("BAAI/bge-small-en-v1.5"), mini);
    expect(bge).toMatchObject({ ok: false, reason: "model_mismatch", partial: { doc_id: "d-1", model: "BAAI/bge-small-en-v1.5" } });
    expect(!bge.ok && bge.error).toMatch(/of model BAAI\/bge-small-en-v1\.5 \(3 dims\) but the index holds vectors of all-MiniLM-L6-v2 \(3 dims\).*not comparable/);
    // Models the registry does not know are told apart by name.
    expect(decodeEmbedding(of("my-model"), { model: "my-model", dim: 3 })).toMatchObject({ ok: true });
    expect(decodeEmbedding(of("my-model-v2"), { model: "my-model", dim: 3 })).toMatchObject({ ok: false, reason: "model_mismatch" });
    // The right model at another dimension.
    const wide = decodeEmbedding(of("all-MiniLM-L6-v2", { vector: [1, 2, 3, 4], dim: 4 }), mini);
    expect(wide).toMatchObject({ ok: false, reason: "model_mismatch" });
    expect(!wide.ok && wide.error).toMatch(/has 4 dimensions but the index holds all-MiniLM-L6-v2 \(3 dims\)/);
    // An empty index of an unknown model takes any dimension; without `holds` nothing is checked.
    expect(decodeEmbedding(of("my-model"), { model: "my-model", dim: undefined })).toMatchObject({ ok: true });
    expect(decodeEmbedding(of("BAAI/bge-small-en-v1.5"))).toMatchObject({ ok: true });
    // Unusable records keep their own reason.
    expect(decodeEmbedding(of("BAAI/bge-small-en-v1.5", { vector: [0, 0, 0] }), mini)).toMatchObject({ ok: false, reason: "bad_vector" });
    expect(modelMismatch({ model: "all-MiniLM-L6-v2", dim: 384 }, { model: "sentence-transformers/all-MiniLM-L6-v2", dim: 384 })).toBeNull();
  });
});
