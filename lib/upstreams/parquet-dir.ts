import "server-only";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { parquetRowCount } from "./parquet-footer";
import { makeRate } from "./rate";

export interface DirStats {
  enabled: boolean;
  path: string | null;
  files: number;
  bytes: number;
  rows_est: number;
  latest_ts: number | null;
  error?: string;
}

/** Deep enough for Spark's `part-*.parquet` under partition folders; hidden and `_` folders (metadata) are skipped. */
const MAX_DEPTH = 4;

async function listParquet(dir: string, depth = 0): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith(".") || e.name.startsWith("_")) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory() && depth < MAX_DEPTH) out.push(...(await listParquet(full, depth + 1)));
    else if (e.isFile() && e.name.endsWith(".parquet")) out.push(full);
  }
  return out;
}

/**
 * Watches one Parquet directory: each new file's footer is read once for its
 * row count (files appear atomically, by rename), so a poll costs one readdir
 * plus a footer per new file. Rates come from rows and bytes between polls.
 */
export function parquetDirWatcher(dir: string | undefined) {
  const known = new Map<string, { rows: number; bytes: number; mtimeMs: number }>();
  const rowRate = makeRate();
  const byteRate = makeRate();
  return async (): Promise<{ stats: DirStats; rate_rows_per_sec: number | null; rate_bytes_per_sec: number | null }> => {
    if (!dir) return { stats: { enabled: false, path: null, files: 0, bytes: 0, rows_est: 0, latest_ts: null }, rate_rows_per_sec: null, rate_bytes_per_sec: null };
    let files: string[];
    try {
      files = await listParquet(dir);
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
      return { stats: { enabled: true, path: dir, files: 0, bytes: 0, rows_est: 0, latest_ts: null, error: missing ? "directory does not exist yet" : (err as Error).message }, rate_rows_per_sec: rowRate(0), rate_bytes_per_sec: byteRate(0) };
    }
    const present = new Set(files);
    for (const f of known.keys()) if (!present.has(f)) known.delete(f);
    for (const f of files) {
      if (known.has(f)) continue;
      try {
        const [{ rows, bytes }, st] = await Promise.all([parquetRowCount(f), stat(f)]);
        known.set(f, { rows, bytes, mtimeMs: st.mtimeMs });
      } catch {
        // Not a complete Parquet file (yet): counted on a later poll.
      }
    }
    let rows = 0, bytes = 0, latest = 0;
    for (const v of known.values()) {
      rows += v.rows;
      bytes += v.bytes;
      latest = Math.max(latest, v.mtimeMs);
    }
    const round = (n: number | null) => (n === null ? null : Number(n.toFixed(1)));
    return {
      stats: { enabled: true, path: dir, files: known.size, bytes, rows_est: rows, latest_ts: latest ? latest / 1000 : null },
      rate_rows_per_sec: round(rowRate(rows)),
      rate_bytes_per_sec: round(byteRate(bytes)),
    };
  };
}
