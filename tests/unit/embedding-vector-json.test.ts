import { describe, expect, it } from "vitest";
import { vectorJsonTexts } from "../../lib/embedding/vector-json";
import { embeddingJson, type EmbeddingMessage } from "../../workers/embed/output-records";

const parsedVectors = (body: string, pick: (j: never) => number[][]) => pick(JSON.parse(body) as never);

describe("vectorJsonTexts: each vector's text as the upstream sent it", () => {
  it("InferMesh answers: {vectors: [[…], …], model}, with an empty list beside them", () => {
    const body = '{"vectors":[[0.5,-0.25,1e-7],[0.125, -0 ,3]],"model":"all-MiniLM-L6-v2","dim":3,"truncated":[ ]}';
    const vectors = parsedVectors(body, (j: { vectors: number[][] }) => j.vectors);
    expect(vectorJsonTexts(body, vectors)).toEqual(["[0.5,-0.25,1e-7]", "[0.125, -0 ,3]"]);
  });

  it("OpenAI answers, with objects and strings around the vectors", () => {
    const body = '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]},{"object":"embedding","index":1,"embedding":[0.3,0.4]}],"model":"m","usage":{"prompt_tokens":3}}';
    const vectors = parsedVectors(body, (j: { data: { embedding: number[] }[] }) => j.data.map((d) => d.embedding));
    expect(vectorJsonTexts(body, vectors)).toEqual(["[0.1,0.2]", "[0.3,0.4]"]);
  });

  it("TEI answers: a bare array of arrays", () => {
    const body = "[[1,2,3],[4,5,6]]";
    expect(vectorJsonTexts(body, JSON.parse(body) as number[][])).toEqual(["[1,2,3]", "[4,5,6]"]);
  });

  it("looks past brackets and escaped quotes inside strings", () => {
    const body = '{"model":"m [1,2] \\"[3,4]\\" \\\\","vectors":[[1,2]],"note":"[5,6]"}';
    expect(vectorJsonTexts(body, [[1, 2]])).toEqual(["[1,2]"]);
  });

  it("gives up, rather than guess, when other flat number arrays are in the answer", () => {
    const body = '{"vectors":[[1,2]],"shape":[1,2]}';
    expect(vectorJsonTexts(body, [[1, 2]])).toBeUndefined();
  });

  it("gives up when a span's numbers are not its vector's", () => {
    expect(vectorJsonTexts("[[1,2],[3,4]]", [[3, 4], [1, 2]])).toBeUndefined();
    expect(vectorJsonTexts('{"vectors":[[]]}', [[0]])).toBeUndefined();
  });
});

describe("embeddingJson", () => {
  const record: EmbeddingMessage = {
    topic: "t",
    text: 'a "vector":0 [1,2] \\',
    doc_id: "d1",
    vector: [0.5, -0.25],
    kafka_ts: null,
    embedded_ts: 1.5,
    model: "m",
    dim: 2,
    normalized: false,
  };

  it("is JSON.stringify's output, with the upstream's vector text spliced in", () => {
    expect(embeddingJson(record, "[0.50, -0.25]")).toBe(JSON.stringify(record).replace("[0.5,-0.25]", "[0.50, -0.25]"));
    expect(JSON.parse(embeddingJson(record, "[0.50, -0.25]"))).toEqual(record);
  });

  it("formats the vector itself without a text", () => {
    expect(embeddingJson(record, undefined)).toBe(JSON.stringify(record));
  });
});
