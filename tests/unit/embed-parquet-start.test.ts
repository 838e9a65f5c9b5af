import { mkdtempSync, rmSync, utimesSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EmbeddingCache } from "../../lib/embedding";
import { ParquetSink, type EmbeddingRow } from "../../lib/parquet";
import { parquetDimensionMismatch, warmCacheFromParquet } from "../../workers/embed/parquet-start";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmpDir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), "embed-parquet-start-"));
  dirs.push(d);
  return d;
};

const row = (offset: number, text: string, dim: number, over: Partial<EmbeddingRow> = {}): EmbeddingRow => ({
  topic: "t", text, doc_id: `d${offset}`, vector: Array.from({ length: dim }, (_, i) => (offset + i) / 8),
  kafka_ts: null, embedded_ts: 1, model: "use-lite", dim, normalized: false, source_partition: 0, source_offset: String(offset), ...over,
});

/** Write one sink file of `rows` with the given modification time (seconds). */
async function file(dir: string, first: number, rows: EmbeddingRow[], mtime: number, storeText = true) {
  const name = await new ParquetSink(dir, storeText).write({ topic: "old-input", partition: 0, firstOffset: BigInt(first), lastOffset: BigInt(first + rows.length - 1) }, rows);
  utimesSync(path.join(dir, name), mtime, mtime);
}

describe("embed-worker start against its Parquet sink", () => {
  it("names both dimensions and the fix when the model does not match the newest file, and is quiet otherwise", async () => {
    const dir = tmpDir();
    expect(await parquetDimensionMismatch(dir, "use-lite")).toBeNull();
    await file(dir, 0, [row(0, "a", 384)], 1_000);
    const line = await parquetDimensionMismatch(dir, "use-lite");
    expect(line).toMatch(/holds 384-dim vectors but model use-lite makes 512-dim vectors/);
    expect(line).toMatch(/EMBED_MODEL/);
    expect(line).toMatch(/EMBED_PARQUET_DIR/);
    expect(line).not.toMatch(/\n/);
    expect(await parquetDimensionMismatch(dir, "minilm-l6-v2")).toBeNull();
    // A model the registry does not know is not judged here.
    expect(await parquetDimensionMismatch(dir, "my-own-model")).toBeNull();
    // The newest file decides.
    await file(dir, 1, [row(1, "b", 512)], 2_000);
    expect(await parquetDimensionMismatch(dir, "use-lite")).toBeNull();
  });

  it("warms the cache with the N newest pairs of this model, the newest most recently used", async () => {
    const dir = tmpDir();
    await file(dir, 0, [row(0, "old-0", 4), row(1, "old-1", 4)], 1_000);
    await file(dir, 2, [row(2, "new-2", 4), row(3, "other-model", 4, { model: "minilm-l6-v2" }), row(4, "new-4", 4), row(5, "unit-5", 4, { normalized: true })], 2_000);
    await file(dir, 6, [row(6, "hidden", 4)], 3_000, false);

    const cache = new EmbeddingCache(100);
    expect(await warmCacheFromParquet(cache, dir, 3, { model: "use-lite", normalize: false })).toBe(3);
    // Newest first: new-4, new-2, old-1 (other models, normalised vectors and text-less files skipped).
    expect(cache.get("use-lite", "new-4")).toEqual(row(4, "", 4).vector);
    expect(cache.get("use-lite", "old-1")).toEqual(row(1, "", 4).vector);
    expect(cache.get("use-lite", "old-0")).toBeUndefined();
    expect(cache.get("use-lite", "other-model")).toBeUndefined();
    expect(cache.get("use-lite", "unit-5")).toBeUndefined();

    // With EMBED_NORMALIZE=1 a normalised vector is as good as a raw one; a full-name model matches its short name.
    const normalizing = new EmbeddingCache(100);
    expect(await warmCacheFromParquet(normalizing, dir, 1, { model: "universal-sentence-encoder-lite", normalize: true })).toBe(1);
    expect(normalizing.get("universal-sentence-encoder-lite", "unit-5")).toBeDefined();

    // Never more than the cache holds; the newest survive.
    const small = new EmbeddingCache(2);
    expect(await warmCacheFromParquet(small, dir, 10, { model: "use-lite", normalize: false })).toBe(2);
    expect(small.get("use-lite", "new-4")).toBeDefined();
    expect(small.get("use-lite", "new-2")).toBeDefined();
  });
});
