/**
 * kNN benchmark of the emb-indexer's index (lib/index) on the default model's
 * vectors (all-MiniLM-L6-v2, 384 dims; --model= another bundled one).
 * Writes bench/results/knn.json.
 *
 *   npm run bench:knn                      (tsx bench/knn.ts)
 *   tsx bench/knn.ts --prepare             only embed the real corpus (cached)
 *   tsx bench/knn.ts --sizes=100000        scale cells to run (default 20000,100000,1000000)
 *   tsx bench/knn.ts --ef-sweep=16,32,64   ef_search values measured per cell (--ef: the chosen one)
 *   tsx bench/knn.ts --merge               keep the cells of knn.json this run does not measure
 *   tsx bench/knn.ts --keep                keep each cell's index under DATA_DIR/bench/index (reused by a later --reuse run)
 *   tsx bench/knn.ts --reuse               measure a kept index again instead of building it (no ingest figures)
 *   tsx bench/knn.ts --out=<file>          write the results elsewhere than bench/results/knn.json
 *
 * Data:
 * - real: REAL_COUNT sentences generated from templates and word lists below,
 *   embedded by the real model through the bundled embedding service,
 *   which this script starts on a free port. Cached under DATA_DIR/bench/ so a
 *   rerun does not embed again.
 * - synthetic (labelled as such): to reach 100k and 1M, each extra vector is a
 *   random mix of two real embeddings plus Gaussian noise, normalised. Mixing keeps
 *   the vectors on roughly the manifold the model produces (uniformly random
 *   384-dim vectors have no neighbourhood structure at all, which no embedding
 *   model makes, and would make every ANN index look worse than it is in use).
 *
 * Recall is measured on real embeddings only: held-out real sentences query an
 * index holding the real corpus (plus, at scale, the synthetic vectors), and
 * HNSW top-10 is compared with exact top-10 over the same index.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import path from "node:path";
import { Agent, request } from "undici";
import { inheritedEnv } from "../lib/config/load";
import { findModel } from "../lib/embedding/registry";
import { parseStackConfig } from "../lib/config/stack";
import { createLogger } from "../lib/log";
import { bundledModel, ensureModelsInstalled } from "../scripts/install/models";
import type { HnswParams } from "../lib/index/hnsw";
import { searchIndex, type SearchResult } from "../lib/index/search";
import { VectorIndex, type IncomingRecord } from "../lib/index/vector-index";
import { freePort } from "../scripts/launcher/ports";

const root = path.resolve(import.meta.dirname, "..");
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
/** The bundled model whose vectors are indexed (its short name names the corpus cache file). */
const MODEL = findModel(arg("model") ?? "all-MiniLM-L6-v2")?.shortName ?? "all-MiniLM-L6-v2";
const DIM = findModel(MODEL)?.dim ?? 384;
/** Real-model embeddings indexed: the issue asks for at least 20k to measure recall on real data. */
const REAL_INDEXED = Number(arg("real") ?? 20_000);
/** Real sentences held out of the index and used as queries. */
const REAL_QUERIES = 500;
const REAL_COUNT = REAL_INDEXED + REAL_QUERIES;
const dataDir = parseStackConfig(inheritedEnv()).dataDir;
const cacheDir = path.join(dataDir, "bench");

// ---------------------------------------------------------------- corpus

/** Small deterministic PRNG (mulberry32), so the corpus is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

const W = {
  person: ["the customer", "my neighbour", "our support engineer", "a new hire", "the landlord", "the coach", "my grandmother", "the pilot", "a student", "the nurse", "the chef", "an investor", "the mayor", "a tourist", "the farmer", "our manager", "the driver", "a researcher", "the teacher", "my brother"],
  thing: ["the invoice", "the laptop", "the train ticket", "the recipe", "the kafka cluster", "the garden", "the mortgage", "the flight", "the database backup", "the football match", "the vaccine appointment", "the rental car", "the quarterly report", "the wedding cake", "the hiking trail", "the printer", "the password", "the weather forecast", "the concert", "the tax return", "the coffee machine", "the delivery", "the museum tour", "the bike repair", "the school project"],
  problem: ["keeps failing", "arrived late", "was cancelled", "costs too much", "stopped working", "is missing", "was delayed again", "looks broken", "was double charged", "cannot be found", "is far too slow", "was rejected", "got lost", "crashed overnight", "needs an update"],
  feeling: ["frustrated", "delighted", "worried", "confused", "relieved", "angry", "grateful", "surprised", "disappointed", "excited"],
  place: ["in Paris", "at the office", "near the station", "in the kitchen", "at the airport", "downtown", "in the village", "at the stadium", "by the river", "in the mountains", "at the hospital", "on the beach", "in the warehouse", "at the bank", "in the library"],
  time: ["yesterday", "this morning", "last week", "every Monday", "since January", "all weekend", "tonight", "two days ago", "during the storm", "after lunch"],
  action: ["asked for a refund for", "wrote a review of", "complained about", "recommended", "cancelled", "booked", "fixed", "paid for", "shared a photo of", "forgot about", "rescheduled", "cleaned", "ordered", "returned", "tested"],
  topic: ["interest rates", "climate change", "machine learning", "the local elections", "vegan cooking", "marathon training", "remote work", "electric cars", "home gardening", "space exploration", "cyber security", "jazz music", "renewable energy", "public transport", "mental health"],
  opinion: ["is overrated", "deserves more attention", "will change everything", "is getting cheaper", "confuses most people", "needs better regulation", "is surprisingly fun", "takes too much time", "saves a lot of money", "is hard to explain"],
  question: ["How do I reset", "Where can I find", "Why is", "Who is responsible for", "When will I receive", "Can someone explain", "What is the best way to handle", "Is it safe to ignore"],
} as const;

/** Sentence templates in several registers (complaints, questions, opinions, reports). */
const TEMPLATES: ((r: () => number) => string)[] = [
  (r) => `${cap(pick(r, W.person))} ${pick(r, W.action)} ${pick(r, W.thing)} ${pick(r, W.place)} ${pick(r, W.time)}.`,
  (r) => `${cap(pick(r, W.thing))} ${pick(r, W.problem)} and ${pick(r, W.person)} is ${pick(r, W.feeling)}.`,
  (r) => `${pick(r, W.question)} ${pick(r, W.thing)} ${pick(r, W.place)}?`,
  (r) => `I think ${pick(r, W.topic)} ${pick(r, W.opinion)}, says ${pick(r, W.person)}.`,
  (r) => `${cap(pick(r, W.time))} ${pick(r, W.person)} felt ${pick(r, W.feeling)} because ${pick(r, W.thing)} ${pick(r, W.problem)}.`,
  (r) => `Report: ${pick(r, W.thing)} ${pick(r, W.place)} ${pick(r, W.problem)}; ${pick(r, W.person)} ${pick(r, W.action)} it ${pick(r, W.time)}.`,
  (r) => `A long discussion about ${pick(r, W.topic)} with ${pick(r, W.person)} ${pick(r, W.place)} ended when ${pick(r, W.thing)} ${pick(r, W.problem)}.`,
  (r) => `Please help: ${pick(r, W.thing)} ${pick(r, W.problem)} ${pick(r, W.time)} and I am ${pick(r, W.feeling)}.`,
];

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** `n` distinct sentences, deterministic. */
export function generateSentences(n: number, seed = 42): string[] {
  const rand = prng(seed);
  const out = new Set<string>();
  while (out.size < n) out.add(pick(rand, TEMPLATES)(rand));
  return [...out];
}

// ---------------------------------------------------------------- real embeddings

interface EmbeddingService {
  base: string;
  stop(): Promise<void>;
}

async function startEmbeddingService(): Promise<EmbeddingService> {
  // The model's files, as `npm start` installs them (a stat when they are there).
  await ensureModelsInstalled(createLogger("bench-knn"), { models: [bundledModel(MODEL)], cacheDir: parseStackConfig(inheritedEnv()).modelCacheDir });
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", path.join(root, "workers/infermesh/index.ts")], {
    cwd: root,
    // Two model sessions: the bench owns the machine while it embeds.
    env: { ...inheritedEnv(), INFERMESH_PORT: String(port), INFERMESH_HOST: "127.0.0.1", INFERMESH_MODEL: MODEL, INFERMESH_SESSIONS: "2", LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`embedding service exited with ${child.exitCode}`);
    const ok = await fetch(`${base}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error("embedding service did not become healthy within 180 s");
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    base,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

async function embedAll(base: string, texts: string[]): Promise<Float32Array> {
  const agent = new Agent({ connections: 4 });
  const out = new Float32Array(texts.length * DIM);
  const BATCH = 32; // the service's default INFERMESH_MAX_BATCH: one model call per request
  let next = 0;
  let done = 0;
  const started = performance.now();
  // Two requests in flight keep both model threads busy.
  await Promise.all(
    [0, 1].map(async () => {
      while (next < texts.length) {
        const from = next;
        next += BATCH;
        const inputs = texts.slice(from, from + BATCH);
        const res = await request(`${base}/embed`, { method: "POST", dispatcher: agent, headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs }) });
        const body = (await res.body.json()) as { vectors?: number[][] };
        if (res.statusCode !== 200 || body.vectors?.length !== inputs.length) throw new Error(`embed failed: HTTP ${res.statusCode}`);
        body.vectors.forEach((v, i) => out.set(v, (from + i) * DIM));
        done += inputs.length;
        if (done % 2048 < BATCH) process.stderr.write(`embedded ${done}/${texts.length} (${Math.round(done / ((performance.now() - started) / 1000))}/s)\n`);
      }
    }),
  );
  await agent.close();
  return out;
}

/** The real corpus: sentences and their vectors by MODEL, embedded once and cached. */
export async function realCorpus(count: number): Promise<{ texts: string[]; vectors: Float32Array; embedSeconds: number | null }> {
  const texts = generateSentences(count);
  const file = path.join(cacheDir, `${MODEL}-${count}.f32`);
  if (existsSync(file)) {
    const buf = readFileSync(file);
    return { texts, vectors: new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), embedSeconds: null };
  }
  const service = await startEmbeddingService();
  try {
    const started = performance.now();
    const vectors = await embedAll(service.base, texts);
    const embedSeconds = (performance.now() - started) / 1000;
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(`${file}.tmp`, Buffer.from(vectors.buffer));
    rmSync(file, { force: true });
    writeFileSync(file, Buffer.from(vectors.buffer));
    rmSync(`${file}.tmp`, { force: true });
    return { texts, vectors, embedSeconds };
  } finally {
    await service.stop();
  }
}

// ---------------------------------------------------------------- index cells

const HNSW: HnswParams = {
  connectivity: Number(arg("m") ?? 16),
  efAdd: Number(arg("ef-add") ?? 128),
  efSearch: Number(arg("ef") ?? 64),
};
const EF_SWEEP = (arg("ef-sweep") ?? "16,32,64,128").split(",").map(Number);
const SHARDS = 32;
const BATCH = 1000;

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const load = () => loadavg().map((l) => Number(l.toFixed(2)));

/** Index `count` vectors from `source(i)` into a fresh index; returns the ingest figures. */
function ingest(dir: string, count: number, source: (i: number) => Float32Array, params: HnswParams) {
  rmSync(dir, { recursive: true, force: true });
  const { index } = VectorIndex.open({ dir, shards: SHARDS, maxIdsPerShard: 0, hnsw: params });
  const started = performance.now();
  const now = Date.now() / 1000;
  for (let from = 0; from < count; from += BATCH) {
    const records: IncomingRecord[] = [];
    for (let i = from; i < Math.min(count, from + BATCH); i++) {
      const vector = Array.from(source(i));
      records.push({ offset: i, record: { topic: "bench", text: "-", doc_id: `doc-${i}`, vector, kafka_ts: now, embedded_ts: now, model: MODEL, dim: DIM, normalized: true } });
    }
    index.apply("embeddings", 0, records, from + records.length);
    if ((from / BATCH) % 50 === 0) process.stderr.write(`ingested ${from + records.length}/${count}\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  return { index, ingest: { vectors: count, seconds: r3(seconds), per_second: Math.round(count / seconds), batch: BATCH, includes: "LMDB transaction per batch + insert into the index-wide HNSW graph" } };
}

/** Exact top-10 of the first `count` queries (the truth recall is measured against) and its latency. */
function exactTruth(index: VectorIndex, queries: Float32Array[], count: number) {
  const ms: number[] = [];
  const truth = queries.slice(0, count).map((q) => {
    const t0 = performance.now();
    const r = searchIndex(index, q, { k: 10, exact: true });
    ms.push(performance.now() - t0);
    return new Set(r.neighbors.map((n) => n.item.key));
  });
  ms.sort((a, b) => a - b);
  return { truth, exact: { p50_ms: r3(pct(ms, 50)), p99_ms: r3(pct(ms, 99)), queries: count } };
}

/**
 * Latency, QPS and recall@10 of `queries` against `index` at ef_search `ef`
 * (the graph searches with max(its efSearch, candidates asked for), so one
 * open index serves the whole sweep); recall over the queries `truth` covers.
 */
function measure(index: VectorIndex, queries: Float32Array[], truth: Set<number>[], ef: number) {
  const hnswMs: number[] = [];
  let recallSum = 0;
  // One untimed pass warms the caches the way a serving index's are warm.
  for (const q of queries.slice(0, 50)) searchIndex(index, q, { k: 10, exact: false, ef });
  const started = performance.now();
  const approx = queries.map((q) => {
    const t0 = performance.now();
    const r = searchIndex(index, q, { k: 10, exact: false, ef });
    hnswMs.push(performance.now() - t0);
    return r;
  });
  const hnswSeconds = (performance.now() - started) / 1000;
  truth.forEach((keys, i) => {
    recallSum += (approx[i] as SearchResult).neighbors.filter((n) => keys.has(n.item.key)).length / keys.size;
  });
  hnswMs.sort((a, b) => a - b);
  return {
    ef_search: ef,
    queries: queries.length,
    modes: [...new Set(approx.map((r) => r.mode))],
    hnsw: { p50_ms: r3(pct(hnswMs, 50)), p99_ms: r3(pct(hnswMs, 99)), qps: Math.round(queries.length / hnswSeconds) },
    recall_at_10: r3(recallSum / truth.length),
    recall_queries: truth.length,
    load: load(),
  };
}

/** A synthetic vector near the real manifold: a random mix of two real embeddings plus noise. */
function synthetic(real: Float32Array, realCount: number, seed: number): (i: number) => Float32Array {
  const rand = prng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  return () => {
    const a = Math.floor(rand() * realCount);
    const b = Math.floor(rand() * realCount);
    const w = rand();
    const out = new Float32Array(DIM);
    for (let d = 0; d < DIM; d++) out[d] = w * (real[a * DIM + d] as number) + (1 - w) * (real[b * DIM + d] as number) + 0.02 * gauss();
    return out;
  };
}

const rssMiB = () => Math.round(process.memoryUsage().rss / 2 ** 20);

async function main() {
  const real = await realCorpus(REAL_COUNT);
  process.stderr.write(`real corpus: ${real.texts.length} texts, embedded in ${real.embedSeconds ?? "cache"} s; cpus ${cpus().length}, load ${load().join(" ")}, mem ${Math.round(totalmem() / 2 ** 30)} GiB\n`);
  if (process.argv.includes("--prepare")) return;
  const row = (i: number) => real.vectors.subarray(i * DIM, (i + 1) * DIM);
  const queries = Array.from({ length: REAL_QUERIES }, (_, i) => row(REAL_INDEXED + i));
  const benchDir = path.join(cacheDir, "index");
  const out = path.resolve(root, arg("out") ?? "bench/results/knn.json");
  const previous = process.argv.includes("--merge") && existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as Record<string, unknown>) : {};
  const results: Record<string, unknown> = {
    ...previous,
    machine: { cpus: cpus().length, total_mem_gib: Math.round(totalmem() / 2 ** 30), load_at_start: load(), note: "2 cores shared with other engineers' builds and tests (load average ≈ 6–10 during these runs); timings are rough, each row carries the load when it was measured" },
    data: {
      real: `${REAL_INDEXED} generated sentences embedded by ${MODEL} (${DIM} dims); ${REAL_QUERIES} more held out as queries`,
      synthetic: "beyond the real vectors: a random mix of two real embeddings + N(0, 0.02²) noise per component, normalised (labelled synthetic)",
      embed_seconds: real.embedSeconds,
    },
    shards: SHARDS,
    search: "one HNSW graph over every shard (usearch, inner product on unit vectors, f32); shards hold the rows for exact search, eviction, statistics and the `shards` subset",
    k: 10,
    hnsw: HNSW,
  };
  const measured = new Set<string>();
  const write = () => {
    mkdirSync(path.dirname(out), { recursive: true });
    // With --merge, re-read the file so cells another run wrote meanwhile are kept.
    const latest = process.argv.includes("--merge") && existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as Record<string, unknown>) : {};
    const cells = Object.fromEntries(Object.entries(results).filter(([key]) => measured.has(key)));
    writeFileSync(out, `${JSON.stringify({ ...latest, ...results, ...Object.fromEntries(Object.entries(latest).filter(([key]) => key.startsWith("n_") && !measured.has(key))), ...cells }, null, 2)}\n`);
  };

  // Per size: build once (real vectors first, then synthetic), save the graph,
  // reopen the index (the graph loads from its snapshot), take the exact top-10
  // of the held-out real queries once, then measure latency and recall at each
  // ef_search of the sweep.
  const sizes = (arg("sizes") ?? `${REAL_INDEXED},100000,1000000`).split(",").map(Number);
  for (const size of sizes) {
    const dir = path.join(benchDir, `n${size}`);
    const extra = synthetic(real.vectors, REAL_INDEXED, size);
    const rssBefore = rssMiB();
    const reuse = process.argv.includes("--reuse") && existsSync(path.join(dir, "hnsw", "manifest.json"));
    const cell = reuse ? undefined : ingest(dir, size, (i) => (i < REAL_INDEXED ? row(i) : extra(i)), HNSW);
    const rssAfterIngest = rssMiB();
    const savedAt = performance.now();
    cell?.index.snapshot();
    const snapshotMs = Math.round(performance.now() - savedAt);
    await cell?.index.close();
    // Run with --expose-gc to free the ingest copy (rows + graph) before the reopened one loads.
    (globalThis as { gc?: () => void }).gc?.();
    const { index, report } = VectorIndex.open({ dir, shards: SHARDS, maxIdsPerShard: 0, hnsw: { ...HNSW, efSearch: Math.min(...EF_SWEEP) } });
    const rssServing = rssMiB();
    const exactCount = size >= 1_000_000 ? 200 : REAL_QUERIES;
    const { truth, exact } = exactTruth(index, queries, exactCount);
    process.stderr.write(`n=${size}: reopened in ${report.ms} ms (graph ${report.graph}); exact ${JSON.stringify(exact)}\n`);
    const sweep = [];
    for (const ef of EF_SWEEP) {
      sweep.push(measure(index, queries, truth, ef));
      process.stderr.write(`n=${size} ef=${ef}: ${JSON.stringify(sweep.at(-1))}\n`);
    }
    await index.close();
    // The smallest ef_search that keeps recall@10 ≥ 0.95 (else the best measured).
    const chosen = sweep.find((s) => s.recall_at_10 >= 0.95) ?? [...sweep].sort((a, b) => b.recall_at_10 - a.recall_at_10)[0];
    results[`n_${size}`] = {
      vectors: size,
      real: Math.min(size, REAL_INDEXED),
      synthetic: Math.max(0, size - REAL_INDEXED),
      ingest: cell?.ingest ?? (previous[`n_${size}`] as { ingest?: unknown } | undefined)?.ingest ?? null,
      snapshot_save_ms: cell ? snapshotMs : ((previous[`n_${size}`] as { snapshot_save_ms?: unknown } | undefined)?.snapshot_save_ms ?? null),
      reopen_ms: report.ms,
      rss_mib_after_ingest: cell ? rssAfterIngest : null,
      rss_growth_mib: cell ? rssAfterIngest - rssBefore : null,
      rss_mib_serving: rssServing,
      load_after: load(),
      exact,
      chosen_rule: "smallest ef_search of the sweep with recall@10 ≥ 0.95",
      chosen: chosen && { ef_search: chosen.ef_search, p50_ms: chosen.hnsw.p50_ms, p99_ms: chosen.hnsw.p99_ms, qps: chosen.hnsw.qps, recall_at_10: chosen.recall_at_10 },
      ef_sweep: sweep,
      recall_note: `recall@10 of held-out real queries (real sentences not in the index; the first ${exactCount}) over real + synthetic vectors, HNSW vs exact on the same index`,
    };
    measured.add(`n_${size}`);
    if (!process.argv.includes("--keep")) rmSync(dir, { recursive: true, force: true });
    write();
  }
  write();
}

await main();
