import fs from "node:fs/promises";
import path from "node:path";
import type { Table } from "apache-arrow";
import { fromParquet } from "./codec";
import { parseFileName } from "./file-name";

/**
 * What the embed-worker reads back from its own Parquet sink at start: the
 * model and dimension of the vectors it already holds (to refuse another
 * model), and the newest (text, vector) pairs to warm the embedding cache.
 */

export interface SinkFile {
  name: string;
  path: string;
  mtimeMs: number;
}

/** The sink's files, newest first (by modification time, then by name: later offsets first). */
export async function sinkFilesNewestFirst(dir: string): Promise<SinkFile[]> {
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => parseFileName(n) !== undefined);
  const files = await Promise.all(
    names.map(async (name) => {
      const p = path.join(dir, name);
      // A file deleted meanwhile (another worker's recovery) is simply not there.
      const st = await fs.stat(p).catch(() => undefined);
      return st ? [{ name, path: p, mtimeMs: st.mtimeMs }] : [];
    }),
  );
  return files.flat().sort((a, b) => b.mtimeMs - a.mtimeMs || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
}

async function readTable(file: string): Promise<Table | undefined> {
  const bytes = await fs.readFile(file).catch(() => undefined);
  return bytes && fromParquet(bytes);
}

/**
 * What the sink holds: the `model` and `dim` of the first row of the newest
 * non-empty file (every row of a sink is of one model: the embed-worker
 * refuses to start on another), or undefined when the sink holds no rows yet.
 * `model` is undefined for a file without the column.
 */
export async function storedVectors(dir: string): Promise<{ dim: number; model: string | undefined; file: string } | undefined> {
  for (const f of await sinkFilesNewestFirst(dir)) {
    const table = await readTable(f.path);
    if (!table || table.numRows === 0) continue;
    const dim = Number(table.getChild("dim")?.get(0) ?? table.getChild("vector")?.get(0)?.length);
    const model = table.getChild("model")?.get(0) as string | null | undefined;
    if (Number.isInteger(dim) && dim > 0) return { dim, model: model ?? undefined, file: f.name };
  }
  return undefined;
}

export interface StoredPair {
  text: string;
  vector: number[];
  model: string;
  normalized: boolean;
}

/**
 * Up to `n` of the newest rows that carry text and pass `accept`, newest first.
 * Files written with EMBED_STORE_TEXT=0 have no text and give nothing. Reads
 * whole files (a sink file is one unit of work: at most ~1,000 rows).
 */
export async function newestPairs(dir: string, n: number, accept: (p: StoredPair) => boolean = () => true): Promise<StoredPair[]> {
  const out: StoredPair[] = [];
  if (n <= 0) return out;
  for (const f of await sinkFilesNewestFirst(dir)) {
    const table = await readTable(f.path);
    const text = table?.getChild("text");
    const vector = table?.getChild("vector");
    if (!table || !text || !vector) continue;
    const model = table.getChild("model");
    const normalized = table.getChild("normalized");
    // Later rows of a file came from later offsets.
    for (let i = table.numRows - 1; i >= 0; i--) {
      const pair: StoredPair = {
        text: String(text.get(i)),
        vector: Array.from(vector.get(i) as Iterable<number>),
        model: String(model?.get(i) ?? ""),
        normalized: Boolean(normalized?.get(i)),
      };
      if (!accept(pair)) continue;
      out.push(pair);
      if (out.length >= n) return out;
    }
  }
  return out;
}
