/**
 * Vector indexes on temporary directories for the index unit tests, written
 * once: every index a test opens is closed and every directory removed after
 * it, whatever it asserted.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach } from "vitest";
import type { HnswParams } from "@/lib/index/hnsw";
import { VectorIndex } from "@/lib/index/vector-index";

export function indexFixtures(prefix: string, hnsw: HnswParams) {
  const dirs: string[] = [];
  const opened: VectorIndex[] = [];
  afterEach(async () => {
    for (const index of opened.splice(0)) await index.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return {
    /** A directory removed after the test. */
    tempDir(): string {
      const dir = mkdtempSync(path.join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    /** Open (or reopen) the index in `dir`: 4 shards, no eviction and the file's HNSW settings unless said otherwise; closed after the test. */
    open(dir: string, opts: { shards?: number; maxIdsPerShard?: number; hnsw?: Partial<HnswParams> } = {}) {
      const result = VectorIndex.open({ dir, shards: opts.shards ?? 4, maxIdsPerShard: opts.maxIdsPerShard ?? 0, hnsw: { ...hnsw, ...opts.hnsw } });
      opened.push(result.index);
      return result;
    },
    /** Close `index` now (to reopen its directory), so the test's end does not close it again. */
    async close(index: VectorIndex): Promise<void> {
      await index.close();
      opened.splice(opened.indexOf(index), 1);
    },
  };
}
