import { mkdtempSync, rmSync, utimesSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EmbeddingCache } from "../../lib/embedding";
import { ParquetSink, type EmbeddingRow } from "../../lib/parquet";
import { parquetModelMismatch, warmCacheFromParquet } from "../../workers/embed/parquet-start";

const dirs: string[] = [];
/** One sink (one encoder thread) per directory and text setting, closed after each test. */
const sinks = new Map<string, ParquetSink>();
afterEach(async () => {
  for (const sink of sinks.values()) await sink.close();
  sinks.clear();
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});
const tmpDir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), "embed-parquet-start-"));
  dirs.push(d);
  return d;
};

const row = (offset: number, text: string, dim: number, over: Partial<EmbeddingRow> = {}): EmbeddingRow => ({
  topic: "t", text, doc_id: `d${offset}`, vector: Array.from({ length: dim }, (_, i) => (offset + i) / 8),
  kafka_ts: null, embedded_ts: 1, model: "all-MiniLM-L6-v2", dim, normalized: false, source_partition: 0, source_offset: String(offset), ...over,
});

/** Write one sink file of `rows` with the given modification time (seconds). */
async function file(dir: string, first: number, rows: EmbeddingRow[], mtime: number, storeText = true) {
  const key = `${dir}|${storeText}`;
  const sink = sinks.get(key) ?? new ParquetSink(dir, storeText);
  sinks.set(key, sink);
  const name = await sink.write({ topic: "old-input", partition: 0, firstOffset: BigInt(first), lastOffset: BigInt(first + rows.length - 1) }, rows);
  utimesSync(path.join(dir, name), mtime, mtime);
}

// Each sink encodes in a thread of its own (tsx-loaded): its start alone can take seconds on a loaded 2-core machine.
describe("embed-worker start against its Parquet sink", { timeout: 20_000 }, () => {
  it("refuses another model of the same dimension, naming both, the newest file and the fix, in one line", async () => {
    const dir = tmpDir();
    expect(await parquetModelMismatch(dir, "bge-small-en-v1.5")).toBeNull();
    await file(dir, 0, [row(0, "a", 384)], 1_000);
    const line = await parquetModelMismatch(dir, "bge-small-en-v1.5");
    expect(line).toMatch(/holds vectors of model all-MiniLM-L6-v2 \(384 dims, newest file .+\.parquet\) but EMBED_MODEL is bge-small-en-v1\.5 \(384 dims\)/);
    expect(line).toMatch(/Set EMBED_MODEL=all-MiniLM-L6-v2 back, or point EMBED_PARQUET_DIR at a new directory/);
    expect(line).not.toMatch(/\n/);
    // The same model by its short name, its full id or in another case.
    expect(await parquetModelMismatch(dir, "all-MiniLM-L6-v2")).toBeNull();
    expect(await parquetModelMismatch(dir, "sentence-transformers/all-MiniLM-L6-v2")).toBeNull();
    // A model the registry does not know is judged by its name.
    expect(await parquetModelMismatch(dir, "my-own-model")).toMatch(/EMBED_MODEL is my-own-model:/);
  });

  it("refuses a directory of an older model of another dimension (USE-lite's 512) and lets the newest file decide", async () => {
    const dir = tmpDir();
    await file(dir, 0, [row(0, "a", 512, { model: "use-lite" })], 1_000);
    expect(await parquetModelMismatch(dir, "all-MiniLM-L6-v2")).toMatch(/holds vectors of model use-lite \(512 dims.*EMBED_MODEL is all-MiniLM-L6-v2 \(384 dims\)/);
    await file(dir, 1, [row(1, "b", 384, { model: "BAAI/bge-small-en-v1.5" })], 2_000);
    expect(await parquetModelMismatch(dir, "bge-small-en-v1.5")).toBeNull();
    expect(await parquetModelMismatch(dir, "all-MiniLM-L6-v2")).toMatch(/holds vectors of model BAAI\/bge-small-en-v1\.5/);
  });

  it("refuses the right model name at a dimension the registry says it does not make", async () => {
    const dir = tmpDir();
    await file(dir, 0, [row(0, "a", 16)], 1_000);
    expect(await parquetModelMismatch(dir, "all-MiniLM-L6-v2")).toMatch(/holds 16-dim vectors but model all-MiniLM-L6-v2 makes 384-dim vectors/);
  });

  it("warms the cache with the N newest pairs of this model, the newest most recently used", async () => {
    const dir = tmpDir();
    await file(dir, 0, [row(0, "old-0", 4), row(1, "old-1", 4)], 1_000);
    await file(dir, 2, [row(2, "new-2", 4), row(3, "other-model", 4, { model: "bge-small-en-v1.5" }), row(4, "new-4", 4), row(5, "unit-5", 4, { normalized: true })], 2_000);
    await file(dir, 6, [row(6, "hidden", 4)], 3_000, false);

    const cache = new EmbeddingCache(100);
    const model = "all-MiniLM-L6-v2";
    expect(await warmCacheFromParquet(cache, dir, 3, { model, normalize: false })).toBe(3);
    // Newest first: new-4, new-2, old-1 (other models, normalised vectors and text-less files skipped).
    expect(cache.get(model, "new-4")).toEqual(row(4, "", 4).vector);
    expect(cache.get(model, "old-1")).toEqual(row(1, "", 4).vector);
    expect(cache.get(model, "old-0")).toBeUndefined();
    expect(cache.get(model, "other-model")).toBeUndefined();
    expect(cache.get(model, "unit-5")).toBeUndefined();

    // With EMBED_NORMALIZE=1 a normalised vector is as good as a raw one; a full-name model matches its short name.
    const normalizing = new EmbeddingCache(100);
    const fullId = "sentence-transformers/all-MiniLM-L6-v2";
    expect(await warmCacheFromParquet(normalizing, dir, 1, { model: fullId, normalize: true })).toBe(1);
    expect(normalizing.get(fullId, "unit-5")).toBeDefined();

    // Never more than the cache holds; the newest survive.
    const small = new EmbeddingCache(2);
    expect(await warmCacheFromParquet(small, dir, 10, { model, normalize: false })).toBe(2);
    expect(small.get(model, "new-4")).toBeDefined();
    expect(small.get(model, "new-2")).toBeDefined();
  });
});
