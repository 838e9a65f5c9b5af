import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ParquetSink, formatFileName, fromParquet, parseFileName, type EmbeddingRow } from "../../lib/parquet";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmpDir = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), "parquet-sink-"));
  dirs.push(d);
  return d;
};

const row = (offset: number, over: Partial<EmbeddingRow> = {}): EmbeddingRow => ({
  topic: "agent.results", text: `text ${offset} — ünïcode 🙂`, doc_id: `d${offset}`, vector: [0.5, -1, 2.25],
  kafka_ts: 1700000000.123, embedded_ts: 1700000001, model: "all-MiniLM-L6-v2", dim: 3, normalized: false, source_partition: 2, source_offset: String(offset), ...over,
});

describe("Parquet sink", () => {
  it("names files by topic, partition, offset range and writer, and reads those names back", () => {
    const f = { topic: "embedding_input", partition: 2, firstOffset: 1200n, lastOffset: 12345678901234567n, writer: "3f9a61c0" };
    const name = formatFileName(f);
    expect(name).toBe("embedding_input+2+00000000000000001200+00012345678901234567+3f9a61c0.parquet");
    expect(parseFileName(name)).toEqual(f);
    expect(parseFileName("notes.txt")).toBeUndefined();
    expect(parseFileName(`${name}.tmp`)).toBeUndefined();
  });

  it("writes a unit atomically as one file whose rows read back exactly, vectors as list<float>", async () => {
    const dir = tmpDir();
    const sink = new ParquetSink(dir, true);
    await sink.init();
    const name = await sink.write({ topic: "in", partition: 2, firstOffset: 10n, lastOffset: 12n }, [row(10), row(12, { kafka_ts: null, topic: null })]);
    expect(readdirSync(dir)).toEqual([name]);
    const table = fromParquet(readFileSync(path.join(dir, name)));
    expect(String(table.schema.fields.find((f) => f.name === "vector")?.type)).toBe("List<Float32>");
    const rows = table.toArray().map((r) => r.toJSON());
    expect(rows.map((r) => [r.doc_id, r.text, Array.from(r.vector as Float32Array), r.kafka_ts, r.topic, r.source_offset])).toEqual([
      ["d10", "text 10 — ünïcode 🙂", [0.5, -1, 2.25], 1700000000.123, "agent.results", 10n],
      ["d12", "text 12 — ünïcode 🙂", [0.5, -1, 2.25], null, null, 12n],
    ]);
  });

  it("keeps no text with storeText=false, only its hash and length", async () => {
    const dir = tmpDir();
    const sink = new ParquetSink(dir, false);
    await sink.init();
    const name = await sink.write({ topic: "in", partition: 0, firstOffset: 0n, lastOffset: 0n }, [row(0, { text: undefined, text_sha256: "ab".repeat(32), text_len: 7 })]);
    const table = fromParquet(readFileSync(path.join(dir, name)));
    expect(table.schema.fields.map((f) => f.name)).not.toContain("text");
    expect(table.get(0)?.toJSON()).toMatchObject({ text_sha256: "ab".repeat(32), text_len: 7 });
  });

  it("on takeover drops exactly the files at or past the committed offset, and leftover temp files, of that partition only", async () => {
    const dir = tmpDir();
    const sink = new ParquetSink(dir, true);
    await sink.init();
    const committedFile = await sink.write({ topic: "in", partition: 1, firstOffset: 0n, lastOffset: 9n }, [row(0)]);
    const uncommitted = await sink.write({ topic: "in", partition: 1, firstOffset: 10n, lastOffset: 19n }, [row(10)]);
    const otherPartition = await sink.write({ topic: "in", partition: 0, firstOffset: 10n, lastOffset: 19n }, [row(10)]);
    const leftoverTmp = `${formatFileName({ topic: "in", partition: 1, firstOffset: 20n, lastOffset: 29n, writer: "deadbeef" })}.tmp`;
    writeFileSync(path.join(dir, leftoverTmp), "partial");

    const dropped = await sink.dropUncommitted("in", 1, 10n);
    expect(dropped.sort()).toEqual([uncommitted, leftoverTmp].sort());
    expect(readdirSync(dir).sort()).toEqual([committedFile, otherPartition].sort());
    expect(await sink.dropUncommitted("in", 1, 10n)).toEqual([]);
  });

  it("leaves no file when the caller lost the partition before the rename", async () => {
    const dir = tmpDir();
    const sink = new ParquetSink(dir, true);
    await sink.init();
    const lost = sink.write({ topic: "in", partition: 0, firstOffset: 0n, lastOffset: 0n }, [row(0)], () => {
      throw new Error("partition lost");
    });
    await expect(lost).rejects.toThrow("partition lost");
    expect(readdirSync(dir)).toEqual([]);
  });
});
