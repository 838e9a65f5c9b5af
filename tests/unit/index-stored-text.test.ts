import path from "node:path";
import { describe, expect, it } from "vitest";
import { IndexStore } from "../../lib/index/store";
import { shardStats } from "../../lib/index/stats";
import { STORED_TEXT_CHARS, cutText } from "../../lib/index/stored-text";
import { VectorIndex } from "../../lib/index/vector-index";
import type { EmbeddingRecord } from "../../lib/records/embedding-record";
import { indexFixtures } from "./index-fixtures";
import { isWellFormedUnicode } from "../../lib/records/well-formed";

const HNSW = { connectivity: 8, efAdd: 32, efSearch: 32 };
// Opened and closed by the tests themselves; the fixture's directories are removed after each.
const { tempDir } = indexFixtures("index-text-", HNSW);

const DIM = 8;
const vectorOf = (seed: number) => Array.from({ length: DIM }, (_, d) => Math.sin(seed * 1.7 + d * 0.3) + 0.01);
const common = (docId: string, seed: number) => ({ topic: "t", doc_id: docId, vector: vectorOf(seed), kafka_ts: 1, embedded_ts: 2, model: "m", dim: DIM, normalized: false });
const withText = (docId: string, seed: number, text: string): EmbeddingRecord => ({ ...common(docId, seed), text });
const withoutText = (docId: string, seed: number, textLen: number): EmbeddingRecord => ({ ...common(docId, seed), text_sha256: "a".repeat(64), text_len: textLen });
const opts = (dir: string) => ({ dir, shards: 4, maxIdsPerShard: 0, hnsw: HNSW });

const emoji = "😀"; // one code point, two UTF-16 units
const cases = [
  { name: "short text, kept whole", text: "hello world", kept: "hello world", truncated: false, len: 11 },
  { name: "exactly 300 characters, kept whole", text: "a".repeat(300), kept: "a".repeat(300), truncated: false, len: 300 },
  { name: "301 characters, cut at 300", text: "b".repeat(301), kept: "b".repeat(300), truncated: true, len: 301 },
  { name: "a surrogate pair across the cut stays whole", text: `${"c".repeat(299)}${emoji}${emoji}tail`, kept: `${"c".repeat(299)}${emoji}`, truncated: true, len: 305 },
  { name: "only astral characters: 300 code points = 600 UTF-16 units", text: emoji.repeat(400), kept: emoji.repeat(300), truncated: true, len: 400 },
  { name: "combining and multibyte characters count as code points", text: "é".repeat(350), kept: "é".repeat(300), truncated: true, len: 350 },
];

describe("the index keeps the first 300 characters of each text", () => {
  it.each(cases)("cutText: $name", ({ text, kept, truncated, len }) => {
    const cut = cutText(text);
    expect(cut).toEqual({ text: kept, truncated, length: len });
    expect(isWellFormedUnicode(cut.text)).toBe(true);
    expect([...cut.text].length).toBeLessThanOrEqual(STORED_TEXT_CHARS);
  });

  it("stores the cut text in LMDB and answers it after a reopen", async () => {
    const dir = tempDir();
    let { index } = VectorIndex.open(opts(dir));
    index.apply("embeddings", 0, cases.map((c, i) => ({ offset: i, record: withText(`doc-${i}`, i, c.text) })), cases.length);
    await index.close();
    const reopened = VectorIndex.open(opts(dir));
    index = reopened.index;
    expect(reopened.report.withoutTexts).toBe(0);
    for (const [i, c] of cases.entries()) {
      expect(index.text(`doc-${i}`), c.name).toEqual({ text: c.kept, text_truncated: c.truncated, text_len: c.len, text_stored: true });
    }
    await index.close();
  });

  it("a record without text (EMBED_STORE_TEXT=0) is stored without text but with its length", async () => {
    const { index } = VectorIndex.open(opts(tempDir()));
    index.apply("embeddings", 0, [{ offset: 0, record: withoutText("private", 1, 1234) }], 1);
    expect(index.text("private")).toEqual({ text: null, text_truncated: false, text_len: 1234, text_stored: false });
    await index.close();
  });

  it("an upsert replaces the stored text", async () => {
    const { index } = VectorIndex.open(opts(tempDir()));
    index.apply("embeddings", 0, [{ offset: 0, record: withText("d", 1, "first version") }], 1);
    index.apply("embeddings", 0, [{ offset: 1, record: withText("d", 2, "second version") }], 2);
    expect(index.text("d")).toMatchObject({ text: "second version", text_stored: true });
    await index.close();
  });

  it("rows written before texts were kept still load and answer text_stored false with no length", async () => {
    const dir = tempDir();
    const store = new IndexStore(path.join(dir, "lmdb"));
    store.claimShards(4);
    // A store of the current layout (an older layout is emptied at open: rows then did not keep their partition).
    store.claimLayout();
    // The row an older indexer wrote: no text fields at all.
    const old = { shard: 0, topic: "t", model: "m", kafka_ts: 1, embedded_ts: 2, dim: DIM, norm: 1, unit: false };
    store.applyBatch({ topic: "embeddings", partition: 0, nextOffset: 1, dim: DIM, model: "m", puts: [{ docId: "old", row: old, vector: new Float32Array(vectorOf(0)) }], maxIdsPerShard: 0, shardCount: () => 0 });
    await store.close();
    const { index, report } = VectorIndex.open(opts(dir));
    // Not counted at open any more (a start reads no rows): a store of an older layout is emptied instead.
    expect(report.withoutTexts).toBe(0);
    expect(index.totalIds).toBe(1);
    expect(index.locate("old")?.meta.docId).toBe("old");
    expect(index.text("old")).toEqual({ text: null, text_truncated: false, text_len: null, text_stored: false });
    // A document the index does not hold has no text either.
    expect(index.text("never-indexed")).toMatchObject({ text: null, text_stored: false });
    await index.close();
  });

  it("shard samples in /knn/shards carry the start of their texts (80 characters), or say there is none", async () => {
    const { index } = VectorIndex.open({ ...opts(tempDir()), shards: 1 });
    index.apply("embeddings", 0, [
      { offset: 0, record: withText("long", 1, `${"d".repeat(79)}${emoji}${"e".repeat(100)}`) },
      { offset: 1, record: withText("short", 2, "a short one") },
      { offset: 2, record: withoutText("hidden", 3, 50) },
    ], 3);
    const [shard] = shardStats(index).shards;
    expect(shard?.samples).toEqual(["hidden", "short", "long"]);
    expect(shard?.sample_docs).toEqual([
      { doc_id: "hidden", text: null, text_truncated: false, text_stored: false },
      { doc_id: "short", text: "a short one", text_truncated: false, text_stored: true },
      { doc_id: "long", text: `${"d".repeat(79)}${emoji}`, text_truncated: true, text_stored: true },
    ]);
    await index.close();
  });
});
