/**
 * One runtime in one bench cell, in its own process (so its RSS is its own):
 * loads the runtime, warms it up on the cell's shape, then runs the rounds
 * bench/embed.ts asks for over IPC and reports latencies, CPU time and RSS.
 *
 *   node --conditions=react-server --import tsx bench/embed/cell-runner.ts \
 *     --runtime=use-lite|<local model> --words=10 --batch=8 [--threads=1] [--cache-dir=...]
 *
 * Batch k holds the same texts in every runtime's process (textSequence from 0).
 */
import { openUseLite } from "../baselines/use-lite";
import { openLocalEmbedder } from "../../workers/infermesh/local-embedder";
import { textSequence } from "./texts";

export type ToRunner = { type: "round"; ms: number } | { type: "finish" };
export type FromRunner =
  | { type: "ready"; dim: number; load_ms: number; info: Record<string, unknown> }
  | { type: "round"; latencies_ms: number[]; inputs: number; tokens: number; cpu_ms: number }
  | { type: "finish"; max_rss_mb: number; rss_mb: number; cpu_ms: number }
  | { type: "error"; message: string };

const WARMUP_CALLS = 30;
const WARMUP_MS = 3000;
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const send = (m: FromRunner) => process.send!(m);

type Embed = (texts: string[]) => Promise<{ vectors: Float32Array[]; tokens: number[] }>;

async function open(runtime: string): Promise<{ dim: number; embed: Embed; info: Record<string, unknown> }> {
  if (runtime === "use-lite") {
    const m = await openUseLite(arg("use-lite-dir"));
    return { dim: m.dim, embed: m.embed, info: m.info };
  }
  const threads = Number(arg("threads") ?? 1);
  const m = await openLocalEmbedder({ model: runtime, cacheDir: arg("cache-dir"), intraOpThreads: threads });
  return { dim: m.dim, embed: (t) => m.embed(t), info: { intra_op_threads: threads } };
}

async function main() {
  if (!process.send) throw new Error("cell-runner runs as a child of bench/embed.ts (IPC channel)");
  const runtime = arg("runtime") ?? "";
  const words = Number(arg("words"));
  const batch = Number(arg("batch"));
  const t0 = performance.now();
  const { dim, embed, info } = await open(runtime);
  const check = async (texts: string[]) => {
    const out = await embed(texts);
    if (out.vectors.length !== texts.length || out.vectors.some((v) => v.length !== dim)) throw new Error(`${runtime} returned ${out.vectors.length} vectors for ${texts.length} inputs`);
    return out;
  };
  // Warm-up on the cell's shape, from texts outside the measured sequence:
  // first calls of a shape grow onnxruntime's arena, and tfjs' graph executor
  // and USE's tokenizer are JavaScript that V8 optimises only after many calls
  // (USE-lite's batch-1 latency halves over its first ~25 calls here).
  // WARMUP_CALLS calls, or as many as fit in WARMUP_MS — at least one.
  const warm = textSequence(words, 1_000_000);
  const warmUntil = performance.now() + WARMUP_MS;
  for (let i = 0; i < WARMUP_CALLS && (i === 0 || performance.now() < warmUntil); i++) await check(warm(batch));
  send({ type: "ready", dim, load_ms: performance.now() - t0, info });

  const next = textSequence(words);
  process.on("message", (m: ToRunner) => {
    if (m.type === "finish") {
      send({ type: "finish", max_rss_mb: process.resourceUsage().maxRSS / 1024, rss_mb: process.memoryUsage().rss / 2 ** 20, cpu_ms: cpuMs() });
      process.disconnect();
      return;
    }
    void (async () => {
      const latencies: number[] = [];
      let tokens = 0;
      const cpu0 = cpuMs();
      const until = performance.now() + m.ms;
      // At least one batch per round, however long one takes.
      do {
        const texts = next(batch);
        const start = performance.now();
        const out = await check(texts);
        latencies.push(performance.now() - start);
        tokens += out.tokens.reduce((a, b) => a + b, 0);
      } while (performance.now() < until);
      send({ type: "round", latencies_ms: latencies, inputs: latencies.length * batch, tokens, cpu_ms: cpuMs() - cpu0 });
    })().catch(fail);
  });
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function fail(err: unknown) {
  const message = err instanceof Error ? err.message : String(err);
  if (process.send) send({ type: "error", message });
  else console.error(message);
  process.exitCode = 1;
  process.disconnect?.();
}

main().catch(fail);
