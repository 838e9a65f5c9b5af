/**
 * What keeping each record's text (the first 300 characters, lib/index/stored-text.ts)
 * costs the index on disk: 20,000 documents of 384 dims written through
 * IndexStore.applyBatch (the indexer's own write path, 1,000 per transaction)
 * with no text fields (a row written before texts were kept), a 10-character
 * text, 300 characters of Latin text (~300 UTF-8 bytes) and 300 characters of
 * Japanese (~900 UTF-8 bytes); the LMDB pages in use are compared. Memory is
 * not measured: the texts stay in LMDB, the in-memory shards never hold them.
 *
 *   npm run bench:index-text   → bench/results/index-text-bytes.json
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { open } from "lmdb";
import { IndexStore } from "../lib/index/store";
import { storedTextOf } from "../lib/index/stored-text";
import type { EmbeddingRecord } from "../lib/records/embedding-record";

const N = 20_000;
const DIM = 384;
const BATCH = 1_000;
const WORDS = "the quick brown fox jumps over a lazy dog while quarterly revenue grew by four percent and the recipe needs two cups of flour".split(" ");
const KINDS = ["none", "short", "latin", "japanese"] as const;
type Kind = (typeof KINDS)[number];

function textOf(i: number, kind: Exclude<Kind, "none">): string {
  if (kind === "short") return `hello ${String(i).padStart(4, "0")}`;
  let s = "";
  let r = (i * 2654435761) >>> 0;
  while (s.length < 600) {
    r = (r * 1103515245 + 12345) >>> 0;
    s += `${kind === "japanese" ? "検索結果の読みやすさ" : WORDS[r % WORDS.length]} `;
  }
  return s;
}

function measure(kind: Kind) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-index-text-"));
  const lmdbDir = path.join(dir, "lmdb");
  const store = new IndexStore(lmdbDir);
  store.claimShards(32);
  for (let from = 0; from < N; from += BATCH) {
    const puts = [];
    for (let i = from; i < from + BATCH; i++) {
      const vector = new Float32Array(DIM).map((_, d) => Math.sin(i + d));
      const record = { topic: "agent.results", text: kind === "none" ? "-" : textOf(i, kind), doc_id: "d", vector: [1], kafka_ts: 1, embedded_ts: 1, model: "m", dim: 1, normalized: true } satisfies EmbeddingRecord;
      const text = kind === "none" ? {} : storedTextOf(record);
      // A sha256-hex doc_id, as derived ids are.
      const docId = `${"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f"}${String(i).padStart(5, "0")}`;
      puts.push({ docId, vector, row: { shard: i % 32, topic: "agent.results", model: "all-MiniLM-L6-v2", kafka_ts: 1_700_000_000 + i, embedded_ts: 1_700_000_100.123 + i, dim: DIM, norm: 1, unit: true, ...text } });
    }
    store.applyBatch({ topic: "embeddings", partition: 0, nextOffset: from + BATCH, dim: DIM, model: "all-MiniLM-L6-v2", puts, maxIdsPerShard: 0, shardCount: () => 0 });
  }
  void store.close();
  const env = open({ path: lmdbDir, maxDbs: 8, compression: false });
  const docs = env.openDB({ name: "docs" });
  const s = docs.getStats() as { pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number };
  const e = env.getStats() as { lastPageNumber: number; pageSize: number };
  let valueBytes = 0;
  let rows = 0;
  for (const { key } of docs.getRange({})) {
    valueBytes += (docs.getBinary(key) as Buffer).length;
    rows++;
  }
  void env.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    kind,
    lmdb_bytes_per_vector: Math.round(((e.lastPageNumber + 1) * e.pageSize) / N),
    docs_db_bytes_per_vector: Math.round(((s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages) * s.pageSize) / N),
    row_value_bytes: Math.round(valueBytes / rows),
  };
}

const rows = KINDS.map(measure);
const none = rows[0]!;
const results = {
  what: "LMDB pages in use per vector, 20,000 documents of 384 dims, with and without the text the index keeps (first 300 characters)",
  machine: { cpus: os.cpus().length, load: os.loadavg().map((l) => Number(l.toFixed(2))) },
  vectors: N,
  dim: DIM,
  rows: rows.map((r) => ({ ...r, added_bytes_per_vector: r.lmdb_bytes_per_vector - none.lmdb_bytes_per_vector })),
};
const out = path.join(import.meta.dirname, "results", "index-text-bytes.json");
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(results.rows)}\n`);
