import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { tableFromArrays } from "apache-arrow";
import { afterAll, describe, expect, it } from "vitest";
import { toParquet } from "@/lib/parquet";
import { parquetRowCount } from "@/lib/upstreams/parquet-footer";
import { promValue } from "@/lib/upstreams/prometheus";

const dir = await mkdtemp(path.join(tmpdir(), "footer-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("Parquet row count from the footer", () => {
  it.each([1, 777, 20_000])("reads %i rows from a file written by parquet-wasm", async (rows) => {
    const file = path.join(dir, `f${rows}.parquet`);
    const table = tableFromArrays({ doc_id: Array.from({ length: rows }, (_, i) => `d${i}`), x: Float64Array.from({ length: rows }, (_, i) => i) });
    await writeFile(file, toParquet(table));
    expect((await parquetRowCount(file)).rows).toBe(rows);
  });

  it("refuses a file that is not Parquet", async () => {
    const file = path.join(dir, "bad.parquet");
    await writeFile(file, "not parquet at all, really");
    await expect(parquetRowCount(file)).rejects.toThrow(/not a Parquet file/);
  });
});

describe("Prometheus text", () => {
  it("sums a metric's samples across labels and ignores longer names", () => {
    const text = '# HELP x\ninfermesh_inputs_total 40\ninfermesh_inputs_total_extra 9\nreq{code="200"} 3\nreq{code="500"} 2\n';
    expect(promValue(text, "infermesh_inputs_total")).toBe(40);
    expect(promValue(text, "req")).toBe(5);
    expect(promValue(text, "absent")).toBeUndefined();
  });
});
