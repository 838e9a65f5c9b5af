/**
 * What one exact kNN query costs the emb-indexer, to size its bound
 * (workers/indexer/exact-gate.ts): the scan over every shard as
 * `exact: true` runs it (ShardIndex.searchExact per shard, usearch's SIMD
 * kernel without a filter, a JS loop with one), on random 384-dim unit vectors
 * (all-MiniLM-L6-v2's dimension; a scan's cost depends on the count and the
 * dimension, not on the values). No LMDB and no graph: an exact query reads
 * neither. Also reports the longest single shard, which is how long the
 * indexer's event loop is held at a time now that a scan yields per shard.
 *
 *   npm run bench:knn-exact            → bench/results/knn-exact.json
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DocTable, type ShardIndex } from "../lib/index/shard-index";

const DIM = 384;
const SHARDS = 32;
const QUERIES = 30;
/** 20k: a small index; 160k: the default cap (EMB_INDEX_SHARDS 32 × EMB_SHARD_MAX_IDS 5000); 320k: twice that. */
const SIZES = [20_000, 160_000, 320_000];

function randomUnit(seed: number): Float32Array {
  // xorshift, so runs are repeatable
  let x = seed * 2654435761 || 1;
  const v = new Float32Array(DIM);
  let norm = 0;
  for (let i = 0; i < DIM; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    v[i] = ((x >>> 0) / 2 ** 32) * 2 - 1;
    norm += (v[i] as number) ** 2;
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < DIM; i++) v[i] = (v[i] as number) / norm;
  return v;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
};
const r2 = (x: number) => Math.round(x * 100) / 100;

function measure(shards: ShardIndex[], k: number, filtered: boolean) {
  const totals: number[] = [];
  let longestShard = 0;
  // Keeps half the documents, as a topic filter might; the JS path runs whenever a filter is given.
  const filter = filtered ? (m: { embeddedTs: number }) => m.embeddedTs % 2 === 0 : undefined;
  for (let q = 0; q < QUERIES; q++) {
    const query = randomUnit(1_000_000 + q);
    const started = performance.now();
    for (const shard of shards) {
      const t = performance.now();
      shard.searchExact(query, k, filter);
      longestShard = Math.max(longestShard, performance.now() - t);
    }
    totals.push(performance.now() - started);
  }
  return { p50_ms: r2(pct(totals, 50)), p99_ms: r2(pct(totals, 99)), longest_shard_ms: r2(longestShard), queries: QUERIES };
}

const results: Record<string, unknown> = {
  machine: { cpus: os.cpus().length, load_at_start: os.loadavg().map(r2), note: "load averages at the start and after each size: timings on a busy machine are rough" },
  dim: DIM,
  shards: SHARDS,
  what: "one exact kNN query = ShardIndex.searchExact over every shard (usearch SIMD without a filter, JS with one); random unit vectors",
};
// The shards read vectors through a RowSource (LMDB in the index); here an in-memory one, so this measures the scan, not the disk.
const vectors = new Map<number, Uint8Array>();
const table = new DocTable(SHARDS, DIM, 16, { docIdOf: (_shard, key) => `d${key}`, copyVector: (key, into, at) => Boolean(vectors.get(key) && (into.set(vectors.get(key) as Uint8Array, at), true)) });
const shards = table.shards;
let held = 0;
for (const size of SIZES) {
  for (; held < size; held++) {
    table.put(held % SHARDS, held, { topic: null, model: "m", embeddedTs: held, partition: 0 });
    vectors.set(held, new Uint8Array(randomUnit(held + 1).buffer));
  }
  const row = {
    vectors: size,
    k10: measure(shards, 10, false),
    k1000: measure(shards, 1000, false),
    k10_filtered: measure(shards, 10, true),
    load_after: os.loadavg().map(r2),
  };
  results[`n_${size}`] = row;
  process.stderr.write(`n=${size}: ${JSON.stringify(row)}\n`);
}
const out = path.join(import.meta.dirname, "results", "knn-exact.json");
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
process.stderr.write(`wrote ${out}\n`);
