/**
 * The capacity model of the README's "Scaling" section, written to
 * bench/results/capacity.json: how many records/s each scalable piece
 * handles, per core where that is what one adds, and which limit comes first.
 *
 * 1. embedding service, per core and model (measured here, now): each bundled
 *    model in this process with one onnxruntime thread, on the service's own
 *    batch shapes — 32 short texts (~10 words; INFERMESH_MAX_BATCH) and 8 long
 *    ones (~200 words; INFERMESH_MAX_BATCH_TOKENS 2048 ÷ ~233 tokens). Figures
 *    are inputs per CPU-second of this process (tokenizer + model + pooling):
 *    on a shared machine, CPU time is what the work costs, where wall time
 *    would also count other processes' turns. Wall inputs/s is kept beside it.
 * 2. embed-worker, per worker and per worker core: bench/results/pipeline.json
 *    (bench:pipeline): the transport ceiling with an instant embedding service
 *    (the worker's own limit: Kafka in, transactions, Parquet) and the worker's
 *    CPU per record with the real model.
 * 3. emb-indexer: bench/results/knn*.json (bench:knn): ingest vectors/s and
 *    resident memory per million vectors, per INDEX_QUANTIZATION when the
 *    bench reports them.
 *
 * Parts 2–3 are read, not re-run: each figure carries the file and date it
 * comes from. Re-run those benches first for fresh figures.
 *
 *   npm run bench:capacity                  (about 2 minutes on 2 cores)
 *   tsx bench/capacity.ts --cell-ms=4000    shorter cells
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseEnv } from "../lib/config/env";
import { inheritedEnv } from "../lib/config/load";
import { localModels } from "../lib/embedding/registry";
import { modelCacheDir } from "../lib/embedding/model-cache";
import { ensureModelsInstalled } from "../scripts/install/models";
import { createLogger } from "../lib/log";
import { openLocalEmbedder } from "../workers/infermesh/local-embedder";
import { machineInfo, watchLoad } from "./embed/machine";
import { round1, TEXT_WORDS, textSequence } from "./embed/texts";

const root = path.resolve(import.meta.dirname, "..");
const resultsDir = path.join(root, "bench/results");
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
// 10 s per cell: hundreds of batches of short texts and dozens of long ones,
// so one slow call on a shared machine does not decide a figure.
const CELL_MS = Number(arg("cell-ms") ?? 10_000);
const WARMUP_CALLS = 10;
/** Warm-up stops after this much CPU time, even before WARMUP_CALLS (a long-text call of bge costs ~1 s). */
const WARMUP_CPU_MS = 3000;
/**
 * A cell also runs until it has used this much CPU: on a loaded machine 10 s of
 * wall time can be a fraction of a core, and a handful of long-text batches.
 */
const MIN_CPU_MS = Number(arg("min-cpu-ms") ?? 5000);
/** …but never longer than this. */
const MAX_CELL_MS = 90_000;
/** `--read-only`: keep the embedding service's per-core figures of capacity.json, re-read the other benches' results. */
const READ_ONLY = process.argv.includes("--read-only");
/** The service's batch shapes (see the header). */
const SHAPES = [
  { kind: "short", words: TEXT_WORDS.short, batch: 32 },
  { kind: "long", words: TEXT_WORDS.long, batch: 8 },
] as const;

const env = parseEnv(["MODEL_CACHE_DIR"], inheritedEnv());
const log = createLogger("bench-capacity", "warn");
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;

function readResult(file: string): { data: Record<string, unknown>; source: string } | undefined {
  const full = path.join(resultsDir, file);
  if (!existsSync(full)) return undefined;
  const data = JSON.parse(readFileSync(full, "utf8")) as Record<string, unknown>;
  const when = (data.generated_at as string | undefined) ?? ((data.machine as { date?: string } | undefined)?.date ?? "undated");
  return { data, source: `bench/results/${file} (${when})` };
}

async function embeddingPerCore() {
  const cacheDir = modelCacheDir(env.MODEL_CACHE_DIR);
  const models = localModels();
  await ensureModelsInstalled(log, { models, cacheDir });
  const out: Record<string, Record<string, unknown>> = {};
  for (const model of models.map((spec) => spec.shortName)) {
    const m = await openLocalEmbedder({ model, cacheDir, intraOpThreads: 1 });
    out[model] = {};
    for (const shape of SHAPES) {
      const warm = textSequence(shape.words, 1_000_000);
      const warmCpu0 = cpuMs();
      for (let i = 0; i < WARMUP_CALLS && (i === 0 || cpuMs() - warmCpu0 < WARMUP_CPU_MS); i++) await m.embed(warm(shape.batch));
      const next = textSequence(shape.words);
      let inputs = 0;
      let tokens = 0;
      const cpu0 = cpuMs();
      const t0 = performance.now();
      do {
        const r = await m.embed(next(shape.batch));
        inputs += r.vectors.length;
        tokens += r.tokens.reduce((a, b) => a + b, 0);
      } while ((performance.now() - t0 < CELL_MS || cpuMs() - cpu0 < MIN_CPU_MS) && performance.now() - t0 < MAX_CELL_MS);
      const wallS = (performance.now() - t0) / 1000;
      const cpuS = (cpuMs() - cpu0) / 1000;
      out[model][shape.kind] = {
        batch: shape.batch,
        words: shape.words,
        tokens_per_input: round1(tokens / inputs),
        inputs,
        inputs_per_cpu_second: round(inputs / cpuS),
        inputs_per_sec_wall: round(inputs / wallS),
        cores_used: round(cpuS / wallS, 2),
      };
      process.stdout.write(`${model} ${shape.kind}: ${round(inputs / cpuS)} inputs per CPU-second (${round(inputs / wallS)}/s wall on ${round(cpuS / wallS, 2)} cores)\n`);
    }
    await m.close();
  }
  return out;
}

/**
 * The same shapes from bench:embed's side-by-side run (one onnxruntime thread
 * per runtime, its own process): a second, independent measurement.
 */
function embedBenchPerCore() {
  const r = readResult("embed.json");
  const cells = (r?.data.side_by_side as { cells?: { kind: string; batch: number; runtimes: Record<string, { inputs_per_sec: number; cores_used: number }> }[] } | undefined)?.cells;
  if (!r || !cells) return { missing: "bench/results/embed.json: run npm run bench:embed" };
  const out: Record<string, Record<string, unknown>> = {};
  for (const shape of SHAPES) {
    const cell = cells.find((c) => c.kind === shape.kind && c.batch === shape.batch);
    for (const [model, x] of Object.entries(cell?.runtimes ?? {})) {
      if (model === "use-lite") continue;
      (out[model] ??= {})[shape.kind] = { batch: shape.batch, inputs_per_sec: x.inputs_per_sec, cores_used: x.cores_used, inputs_per_core_second: round(x.inputs_per_sec / x.cores_used) };
    }
  }
  return { source: r.source, models: out };
}

/** The embed-worker's own limit and its CPU per record, from bench:pipeline. */
function embedWorker() {
  const r = readResult("pipeline.json");
  if (!r) return { missing: "bench/results/pipeline.json: run npm run bench:pipeline" };
  const t = r.data.transport_ceiling as { records_per_sec: number; cpu_cores_used: { worker: number; broker: number }; records: number; seconds: number; cpu_seconds: { worker: number } };
  const rounds = (r.data.real_model as { rounds: { end_to_end: { records: number; records_per_sec: number; cpu_seconds: { worker: number; embedding_service: number; broker: number } } }[] }).rounds;
  const e2e = rounds.map((x) => x.end_to_end);
  const sum = (f: (x: (typeof e2e)[number]) => number) => e2e.reduce((a, x) => a + f(x), 0);
  return {
    source: r.source,
    transport_ceiling_records_per_sec: t.records_per_sec,
    transport_ceiling_worker_cores: t.cpu_cores_used.worker,
    records_per_worker_core: round(t.records_per_sec / t.cpu_cores_used.worker),
    worker_cpu_ms_per_record_instant_service: round((t.cpu_seconds.worker * 1000) / t.records, 3),
    real_model: {
      records_per_sec: round(sum((x) => x.records) / sum((x) => x.records / x.records_per_sec), 1),
      worker_cpu_ms_per_record: round((sum((x) => x.cpu_seconds.worker) * 1000) / sum((x) => x.records), 3),
      embedding_service_cpu_ms_per_record: round((sum((x) => x.cpu_seconds.embedding_service) * 1000) / sum((x) => x.records), 3),
      broker_cpu_ms_per_record: round((sum((x) => x.cpu_seconds.broker) * 1000) / sum((x) => x.records), 3),
    },
    note: "transport ceiling: an instant TEST DOUBLE embedding service, so the worker (Kafka read, transactions, Parquet) is the limit; records of ~10 words, 384-dim vectors",
  };
}

interface KnnCell {
  vectors?: number;
  ingest?: { per_second: number; per_cpu_second?: number };
  rss_mib_serving?: number;
  rss_mib_after_ingest?: number;
  reopen_ms?: number;
  bytes_per_vector?: { raw: number; serving_rss: number; index: number; index_anon?: number };
  rss?: { serving?: { rss_mib: number } };
  chosen?: { ef_search: number; p99_ms: number; recall_at_10: number };
}

/**
 * Indexer ingest and memory per million vectors, from bench:knn: cells
 * `n_<size>_<quantization>` (INDEX_QUANTIZATION), or `n_<size>` from before
 * quantization existed (f32).
 */
function indexer() {
  const r = readResult("knn.json");
  if (!r) return { missing: "bench/results/knn.json: run npm run bench:knn" };
  const cells = Object.entries(r.data)
    .map(([key, value]) => ({ m: key.match(/^n_(\d+)(?:_(f32|f16|i8))?$/), cell: value as KnnCell }))
    .filter((x): x is { m: RegExpMatchArray; cell: KnnCell } => x.m !== null)
    .map(({ m, cell }) => {
      const vectors = cell.vectors ?? Number(m[1]);
      const servingMib = cell.rss?.serving?.rss_mib ?? cell.rss_mib_serving ?? cell.rss_mib_after_ingest;
      const perVector = cell.bytes_per_vector?.serving_rss ?? (servingMib === undefined ? undefined : (servingMib * 2 ** 20) / vectors);
      return {
        quantization: m[2] ?? "f32",
        vectors,
        ingest_vectors_per_sec: cell.ingest?.per_second ?? null,
        // Batch inserts straight into the index (no Kafka), per CPU-second: the load-independent figure.
        ingest_vectors_per_cpu_second: cell.ingest?.per_cpu_second ?? null,
        reopen_s: cell.reopen_ms === undefined ? null : round(cell.reopen_ms / 1000, 1),
        raw_bytes_per_vector: cell.bytes_per_vector?.raw ?? null,
        // The whole serving process ÷ vectors: what a machine must have per vector.
        serving_bytes_per_vector: perVector === undefined ? null : round(perVector),
        gib_per_million_vectors: perVector === undefined ? null : round((perVector * 1_000_000) / 2 ** 30, 2),
        // The index alone (serving RSS − the process before opening it) ÷ vectors.
        index_gib_per_million_vectors: cell.bytes_per_vector?.index === undefined ? null : round((cell.bytes_per_vector.index * 1_000_000) / 2 ** 30, 2),
        // Of that, anonymous memory (heap + graph) — what cannot be given back; the rest is LMDB's file pages, reclaimable page cache.
        index_anon_gib_per_million_vectors: cell.bytes_per_vector?.index_anon === undefined ? null : round((cell.bytes_per_vector.index_anon * 1_000_000) / 2 ** 30, 2),
        recall_at_10: cell.chosen?.recall_at_10 ?? null,
        p99_ms: cell.chosen?.p99_ms ?? null,
        ef_search: cell.chosen?.ef_search ?? null,
      };
    })
    .sort((a, b) => a.vectors - b.vectors || a.quantization.localeCompare(b.quantization));
  return {
    source: r.source,
    dims: (r.data.dim as number | undefined) ?? null,
    cells,
    note: "per million vectors = resident memory of the serving indexer process ÷ the vectors it holds; at small sizes the process's fixed memory dominates, so the largest size is the figure to plan with",
  };
}

type Shape = (typeof SHAPES)[number]["kind"];
type PerCore = Record<string, Partial<Record<Shape, { inputs_per_cpu_second?: number; inputs_per_core_second?: number }>>>;

/**
 * The figures the README's capacity model uses: per model and text shape, the
 * per-core rate from whichever of the two measurements ran with less other
 * work on the machine (both are in this file); the embed-worker's ceiling; the
 * indexer's largest measured size per quantization.
 */
function capacityModel(r: {
  machine: unknown;
  embedding_service_per_core: unknown;
  embedding_service_per_core_bench_embed: unknown;
  embed_worker: unknown;
  indexer: unknown;
  indexer_from_topic: unknown;
}) {
  const here = r.embedding_service_per_core as { models?: PerCore } | undefined;
  const hereLoad = (r.machine as { load?: { other_processes_cores?: number } }).load?.other_processes_cores ?? Infinity;
  const embedFile = readResult("embed.json")?.data.side_by_side as { machine?: { load?: { other_processes_cores?: number } } } | undefined;
  const benchLoad = embedFile?.machine?.load?.other_processes_cores ?? Infinity;
  const bench = (r.embedding_service_per_core_bench_embed as { models?: PerCore }).models ?? {};
  const useBench = benchLoad <= hereLoad;
  const perCore: Record<string, Record<string, number | null>> = {};
  for (const model of new Set([...Object.keys(here?.models ?? {}), ...Object.keys(bench)])) {
    perCore[model] = {};
    for (const shape of SHAPES) {
      const a = here?.models?.[model]?.[shape.kind]?.inputs_per_cpu_second;
      const b = bench[model]?.[shape.kind]?.inputs_per_core_second;
      perCore[model][shape.kind] = (useBench ? (b ?? a) : (a ?? b)) ?? null;
    }
  }
  const worker = r.embed_worker as { transport_ceiling_records_per_sec?: number; records_per_worker_core?: number };
  const idx = r.indexer as { cells?: { quantization: string; vectors: number; ingest_vectors_per_sec: number | null; gib_per_million_vectors: number | null; index_gib_per_million_vectors: number | null; recall_at_10: number | null; p99_ms: number | null; reopen_s: number | null }[] };
  const largest = new Map<string, NonNullable<typeof idx.cells>[number]>();
  for (const c of idx.cells ?? []) if ((largest.get(c.quantization)?.vectors ?? -1) < c.vectors) largest.set(c.quantization, c);
  const workerCeiling = worker.transport_ceiling_records_per_sec ?? null;
  return {
    embedding_inputs_per_core_second: perCore,
    embedding_per_core_from: useBench ? `bench:embed side_by_side (other processes ${benchLoad} cores)` : `this run (other processes ${hereLoad} cores)`,
    embed_worker_records_per_sec: workerCeiling,
    // How many embedding-service cores one embed-worker can keep busy, per model and shape.
    embedding_cores_per_embed_worker: Object.fromEntries(
      Object.entries(perCore).map(([model, shapes]) => [model, Object.fromEntries(Object.entries(shapes).map(([k, v]) => [k, v && workerCeiling ? round(workerCeiling / v, 1) : null]))]),
    ),
    indexer_by_quantization: Object.fromEntries([...largest].map(([q, c]) => [q, c])),
    indexer_ingest_vectors_per_cpu_second: (r.indexer_from_topic as { vectors_per_cpu_second?: number[] }).vectors_per_cpu_second ?? null,
  };
}

/**
 * What one indexer ingests from Kafka (fetch, decode, LMDB, graph insert), per
 * CPU-second of the indexer process, from bench:indexer-move: the rate a
 * partition is rebuilt at when it moves, and an indexer's steady ingest ceiling per core.
 */
function indexerFromTopic() {
  const r = readResult("indexer-move.json");
  if (!r) return { missing: "bench/results/indexer-move.json: run the indexer-move bench" };
  const d = r.data as { date?: string; dim?: number; one_indexer?: { vectors_per_cpu_s?: number; rebuild_vectors_per_s?: number }; kill?: { vectors_per_cpu_s?: number; reassigned_ms?: number; live_again_ms?: number }; join?: { released?: { documents: number; durationMs: number }[]; old_instance_cpu_s_meanwhile?: number }; machine?: { loadavg_1m?: number } };
  return {
    source: `bench/results/indexer-move.json (${d.date ?? "undated"}, load average ${d.machine?.loadavg_1m ?? "?"})`,
    dims: d.dim ?? null,
    vectors_per_cpu_second: [d.one_indexer?.vectors_per_cpu_s, d.kill?.vectors_per_cpu_s].filter((x): x is number => typeof x === "number"),
    wall_vectors_per_sec_on_this_loaded_machine: d.one_indexer?.rebuild_vectors_per_s ?? null,
    partition_reassigned_after_kill_ms: d.kill?.reassigned_ms ?? null,
    partition_live_again_after_kill_ms: d.kill?.live_again_ms ?? null,
  };
}

async function main() {
  const previous = readResult("capacity.json")?.data;
  let measured: { machine: unknown; embedding_service_per_core: unknown };
  if (READ_ONLY && previous) {
    measured = { machine: previous.machine, embedding_service_per_core: previous.embedding_service_per_core };
  } else {
    const load = watchLoad();
    const cpuStart = cpuMs();
    const perCore = await embeddingPerCore();
    const loadReport = load.stop(cpuMs() - cpuStart);
    measured = {
      machine: { ...machineInfo(root), load: loadReport },
      embedding_service_per_core: {
        generated_at: new Date().toISOString(),
        method: "each bundled model in one process, one onnxruntime thread (INFERMESH_INTRA_OP_THREADS=1), the service's batch shapes; inputs per CPU-second of that process (tokenize + model + pooling), which is what one more core of embedding service adds (the service runs INFERMESH_SESSIONS sessions, one core each)",
        cell_ms: CELL_MS,
        models: perCore,
      },
    };
  }
  const result = {
    generated_at: new Date().toISOString(),
    ...measured,
    embedding_service_per_core_bench_embed: embedBenchPerCore(),
    embed_worker: embedWorker(),
    indexer: indexer(),
    indexer_from_topic: indexerFromTopic(),
  };
  const withModel = { ...result, model: capacityModel(result) };
  writeFileSync(path.join(resultsDir, "capacity.json"), `${JSON.stringify(withModel, null, 2)}\n`);
  process.stdout.write(`wrote bench/results/capacity.json\n`);
}

await main();
