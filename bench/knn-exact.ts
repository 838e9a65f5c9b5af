/**
 * What one exact kNN query costs the emb-indexer, to size its bound
 * (workers/indexer/exact-gate.ts): the scan over every shard as `exact: true`
 * runs it, on random 384-dim unit vectors (all-MiniLM-L6-v2's dimension; a
 * scan's cost depends on the count and the dimension, not on the values) kept
 * where the indexer keeps them, in a real LMDB store (IndexStore; the graph is
 * not built: an exact query does not read it). Two ways of reading them:
 *
 * - `rows`: shard by shard, each row's vector looked up by key
 *   (ShardIndex.searchExact: what every exact scan did before, and what a
 *   scan with a filter or a shard subset still does);
 * - `bulk`: every shard at once, LMDB's vectors in key order with one cursor
 *   (DocTable.scanAll: what a scan of every shard without a filter does now).
 *
 * Also reports the longest time the event loop is held at once (a shard for
 * `rows`, a chunk of 2,048 vectors for `bulk`: scans yield between them).
 *
 *   npm run bench:knn-exact            → bench/results/knn-exact.json
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DocTable } from "../lib/index/shard-index";
import { IndexStore } from "../lib/index/store";
import { percentileOf } from "../tests/harness/percentile";

const DIM = 384;
const SHARDS = 32;
const QUERIES = 20;
/** 20k: a small index; 160k: the default cap (EMB_INDEX_SHARDS 32 × EMB_SHARD_MAX_IDS 5000). `--sizes 20000,160000,320000` for others. */
const sizesArg = process.argv.indexOf("--sizes");
const SIZES = sizesArg > 0 ? (process.argv[sizesArg + 1] ?? "").split(",").map(Number) : [20_000, 160_000];

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

const r2 = (x: number) => Math.round(x * 100) / 100;

const dir = mkdtempSync(path.join(os.tmpdir(), "bench-knn-exact-"));
const store = new IndexStore(dir);
const table = new DocTable(SHARDS, DIM, 16, store);
const shards = table.shards;

function measure(k: number, how: "rows" | "bulk", filtered: boolean) {
  const totals: number[] = [];
  let longestHold = 0;
  let found = 0;
  // Keeps half the documents, as a topic filter might; a filter always reads row by row.
  const filter = filtered ? (m: { embeddedTs: number }) => m.embeddedTs % 2 === 0 : undefined;
  for (let q = 0; q < QUERIES; q++) {
    const query = randomUnit(1_000_000 + q);
    const started = performance.now();
    if (how === "rows") {
      for (const shard of shards) {
        const t = performance.now();
        found += shard.searchExact(query, k, filter).hits.length;
        longestHold = Math.max(longestHold, performance.now() - t);
      }
    } else {
      const steps = table.scanAll(query, k);
      if (!steps) throw new Error("the store cannot read in bulk");
      for (;;) {
        const t = performance.now();
        const step = steps.next();
        longestHold = Math.max(longestHold, performance.now() - t);
        if (step.done) {
          found += step.value.hits.length;
          break;
        }
      }
    }
    totals.push(performance.now() - started);
  }
  if (found < QUERIES * k) throw new Error(`${how}: ${found} hits for ${QUERIES} queries of k ${k}`);
  return { p50_ms: r2(percentileOf(totals, 50)), p99_ms: r2(percentileOf(totals, 99)), longest_hold_ms: r2(longestHold), queries: QUERIES };
}

const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, load_at_start: os.loadavg().map(r2), note: "load averages at the start and after each size: timings on a busy machine are rough" },
  dim: DIM,
  shards: SHARDS,
  what: "one exact kNN query over every shard, vectors in a real LMDB store: rows = ShardIndex.searchExact per shard (a lookup per key; still used with a filter or a shard subset), bulk = DocTable.scanAll (one cursor in key order, 2,048 vectors a chunk); usearch's SIMD kernel scores both; random unit vectors",
};
try {
  let held = 0;
  for (const size of SIZES) {
    const fillStarted = performance.now();
    for (; held < size; ) {
      const puts = [];
      for (const end = Math.min(size, held + 5000); held < end; held++) {
        const row = { shard: held % SHARDS, topic: null, model: "m", kafka_ts: null, embedded_ts: held, dim: DIM, norm: 1, unit: true };
        puts.push({ docId: `d${held}`, row, vector: randomUnit(held + 1) });
      }
      for (const change of store.applyBatch({ topic: "embeddings", partition: 0, nextOffset: held, dim: DIM, model: "m", puts, maxIdsPerShard: 0, shardCount: () => 0 })) {
        if (change.kind === "put") table.put(change.row.shard, change.row.key, { topic: null, model: "m", embeddedTs: change.row.embedded_ts, partition: 0 });
      }
    }
    process.stderr.write(`n=${size}: stored in ${Math.round(performance.now() - fillStarted)} ms\n`);
    const row = {
      vectors: size,
      k10_rows: measure(10, "rows", false),
      k10_bulk: measure(10, "bulk", false),
      k1000_rows: measure(1000, "rows", false),
      k1000_bulk: measure(1000, "bulk", false),
      k10_filtered_rows: measure(10, "rows", true),
      load_after: os.loadavg().map(r2),
    };
    results[`n_${size}`] = row;
    process.stderr.write(`n=${size}: ${JSON.stringify(row)}\n`);
  }
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
const out = path.join(import.meta.dirname, "results", "knn-exact.json");
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
process.stderr.write(`wrote ${out}\n`);
