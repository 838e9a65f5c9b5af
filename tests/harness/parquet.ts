import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fromParquet } from "../../lib/parquet";

/** Every row of every Parquet file in `dir`, with the file it came from. */
export function readParquetDir(dir: string): (Record<string, unknown> & { file: string })[] {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir).filter((f) => f.endsWith(".parquet")).sort();
  } catch {
    return [];
  }
  return entries.flatMap((file) => fromParquet(readFileSync(path.join(dir, file))).toArray().map((r) => ({ ...(r.toJSON() as Record<string, unknown>), file })));
}
