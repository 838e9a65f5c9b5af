import { describe, expect, it } from "vitest";
import { describeZodError } from "@/lib/http/api-error";
import { knnQuerySchema } from "@/lib/knn/query";
import { knnQuerySchema as consoleSchema } from "@/app/api/knn/query/schema";
import { knnQuerySchema as indexerSchema } from "@/workers/indexer/query";

/** The first readable line of a refusal, as both the console and the indexer answer it (422 invalid_request). */
function refusal(body: unknown): string | null {
  const r = knnQuerySchema.safeParse(body);
  return r.success ? null : describeZodError(r.error);
}

describe("one kNN query schema", () => {
  it("is the same object for the console route and the indexer", () => {
    expect(consoleSchema).toBe(knnQuerySchema);
    expect(indexerSchema).toBe(knnQuerySchema);
  });

  it.each([
    { name: "an empty shards list (console and indexer once disagreed)", body: { text: "a", shards: [] }, message: "shards: shards is empty; leave it out to search every shard" },
    { name: "no query", body: { k: 3 }, message: "give exactly one of vector, doc_id or text (got none)" },
    { name: "two queries", body: { doc_id: "a", text: "b" }, message: "give exactly one of vector, doc_id or text (got doc_id and text)" },
    { name: "an unknown field", body: { text: "a", shard: [1] }, message: 'Unrecognized key: "shard"' },
    { name: "a zero vector", body: { vector: [0, 0] }, message: "vector is all zeros: cosine similarity is undefined for it" },
    { name: "an overflowing vector", body: { vector: [1e200, 1e200] }, message: "vector norm is not finite (values too large)" },
    { name: "a string component", body: { vector: [0.1, "x"] }, message: "vector.1: every vector component must be a finite number" },
    { name: "k = 0", body: { text: "a", k: 0 }, message: "k: k must be an integer from 1 to 1000" },
    { name: "an empty exclude_doc_id", body: { text: "a", exclude_doc_id: "" }, message: "exclude_doc_id: exclude_doc_id is empty" },
    { name: "a blank text", body: { text: "   " }, message: "text: text is empty" },
  ])("refuses $name", ({ body, message }) => {
    expect(refusal(body)).toBe(message);
  });

  it.each([
    { name: "a text, trimmed, with defaults", body: { text: "  hello " }, parsed: { text: "hello", k: 5, exact: false, include_self: false } },
    { name: "a vector with exclude_doc_id", body: { vector: [0.6, 0.8], exclude_doc_id: "d1", k: 3 }, parsed: { vector: [0.6, 0.8], exclude_doc_id: "d1", k: 3 } },
    { name: "a doc_id with shards", body: { doc_id: "d1", shards: [0, 31] }, parsed: { doc_id: "d1", shards: [0, 31] } },
  ])("accepts $name", ({ body, parsed }) => {
    expect(knnQuerySchema.parse(body)).toMatchObject(parsed);
  });
});
