/**
 * The new runtime against the previous one, in-process, on the same inputs.
 *
 * Per cell (text kind × batch size), every runtime runs in its own child
 * process (bench/embed/cell-runner.ts), so each one's RSS is its own and
 * nothing of one runtime's allocator state leaks into the other's figures.
 * The children load side by side, then compute one at a time, alternating in
 * rounds (A B C, A B C, …), so noise from the shared machine falls on all of
 * them alike. Batch k is the same texts in every runtime.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { scriptArgs } from "../../tests/harness/workers";
import type { FromRunner, ToRunner } from "./cell-runner";
import { percentile } from "../../tests/harness/percentile";
import { TEXT_WORDS, round1, type TextKind } from "./texts";

export const BASELINE = "use-lite";
export const DEFAULT_MODEL = "all-MiniLM-L6-v2";
/** The default model against the baseline, and bge for information. */
export const RUNTIMES = [BASELINE, DEFAULT_MODEL, "bge-small-en-v1.5"] as const;
export const SIDE_BY_SIDE_BATCHES = [1, 8, 32, 64] as const;
/** The goal: the default model's inputs/s over USE-lite's. */
export const GOALS: Record<TextKind, number> = { short: 2, long: 1.25 };

type Ready = Extract<FromRunner, { type: "ready" }>;
type Round = Extract<FromRunner, { type: "round" }>;
type Finish = Extract<FromRunner, { type: "finish" }>;

/** One runtime's child process for one cell; strictly one request, one answer. */
class Runner {
  private readonly child: ChildProcess;
  private waiting?: { resolve: (m: FromRunner) => void; reject: (e: Error) => void };
  private exited = false;
  readonly ready: Promise<Ready>;

  constructor(
    readonly runtime: string,
    args: string[],
    root: string,
  ) {
    this.child = spawn(process.execPath, scriptArgs("bench/embed/cell-runner.ts", [`--runtime=${runtime}`, ...args]), { cwd: root, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child.on("message", (m: FromRunner) => {
      const w = this.waiting;
      this.waiting = undefined;
      if (m.type === "error") w?.reject(new Error(`${runtime}: ${m.message}`));
      else w?.resolve(m);
    });
    this.child.on("exit", (code, signal) => {
      this.exited = true;
      this.waiting?.reject(new Error(`${runtime} runner exited (${signal ?? code}) before answering`));
      this.waiting = undefined;
    });
    this.ready = this.next() as Promise<Ready>;
  }

  private next(): Promise<FromRunner> {
    return new Promise((resolve, reject) => {
      if (this.exited) reject(new Error(`${this.runtime} runner is not running`));
      else this.waiting = { resolve, reject };
    });
  }

  private ask(m: ToRunner): Promise<FromRunner> {
    const answer = this.next();
    this.child.send(m);
    return answer;
  }

  round(ms: number) {
    return this.ask({ type: "round", ms }) as Promise<Round>;
  }

  async finish(): Promise<Finish> {
    const f = (await this.ask({ type: "finish" })) as Finish;
    await this.stop();
    return f;
  }

  /** Wait for the child to leave (it exits by itself after `finish`); kill it if it does not within 10 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once("exit", () => r()));
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    if (this.child.connected && !this.waiting) this.child.disconnect();
    await gone;
    clearTimeout(timer);
  }

  kill() {
    if (!this.exited) this.child.kill("SIGKILL");
  }
}

export interface RuntimeCell {
  inputs_per_sec: number;
  p50_ms: number;
  p95_ms: number;
  batches: number;
  inputs: number;
  tokens_per_input: number;
  /** CPU time over wall time while embedding: 1 = one core busy. */
  cores_used: number;
  max_rss_mb: number;
  rss_end_mb: number;
  load_ms: number;
}

export interface Cell {
  kind: TextKind;
  batch: number;
  runtimes: Record<string, RuntimeCell>;
  /** inputs/s of each model over the baseline's. */
  ratio: Record<string, number>;
}

export interface SideBySideOptions {
  root: string;
  /** Time each runtime computes in one cell, split evenly over the rounds. */
  cellMs: number;
  rounds: number;
  intraOpThreads: number;
  modelCacheDir: string;
  useLiteDir: string;
  kinds?: readonly TextKind[];
  batches?: readonly number[];
}

/** Runs one cell; returns it and the CPU time its children used (for the load report). */
async function runCell(kind: TextKind, batch: number, o: SideBySideOptions): Promise<{ cell: Cell; cpuMs: number }> {
  const args = [`--words=${TEXT_WORDS[kind]}`, `--batch=${batch}`, `--threads=${o.intraOpThreads}`, `--cache-dir=${o.modelCacheDir}`, `--use-lite-dir=${o.useLiteDir}`];
  const runners = RUNTIMES.map((r) => new Runner(r, args, o.root));
  try {
    const ready = await Promise.all(runners.map((r) => r.ready));
    const rounds: Round[][] = runners.map(() => []);
    for (let i = 0; i < o.rounds; i++) {
      for (const [j, r] of runners.entries()) rounds[j]!.push(await r.round(o.cellMs / o.rounds));
    }
    const finished: Finish[] = [];
    for (const r of runners) finished.push(await r.finish());
    const runtimes: Record<string, RuntimeCell> = {};
    runners.forEach((r, j) => {
      const mine = rounds[j]!;
      const lat = mine.flatMap((x) => x.latencies_ms).sort((a, b) => a - b);
      const busyMs = lat.reduce((a, b) => a + b, 0);
      const inputs = mine.reduce((a, x) => a + x.inputs, 0);
      runtimes[r.runtime] = {
        // Over the time spent in embed calls only: the rounds of the other runtimes in between do not count.
        inputs_per_sec: round1((inputs * 1000) / busyMs),
        p50_ms: round1(percentile(lat, 50)),
        p95_ms: round1(percentile(lat, 95)),
        batches: lat.length,
        inputs,
        tokens_per_input: round1(mine.reduce((a, x) => a + x.tokens, 0) / inputs),
        cores_used: Math.round((mine.reduce((a, x) => a + x.cpu_ms, 0) / busyMs) * 100) / 100,
        max_rss_mb: Math.round(finished[j]!.max_rss_mb),
        rss_end_mb: Math.round(finished[j]!.rss_mb),
        load_ms: Math.round(ready[j]!.load_ms),
      };
    });
    const base = runtimes[BASELINE]!.inputs_per_sec;
    const ratio = Object.fromEntries(RUNTIMES.filter((r) => r !== BASELINE).map((r) => [r, Math.round((runtimes[r]!.inputs_per_sec / base) * 100) / 100]));
    return { cell: { kind, batch, runtimes, ratio }, cpuMs: finished.reduce((a, f) => a + f.cpu_ms, 0) };
  } finally {
    for (const r of runners) r.kill();
  }
}

const geomean = (xs: number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

/**
 * The goal check. "Short texts" and "long texts" each name the geometric mean
 * of the default model's ratio over the batch sizes measured (1, 8, 32, 64):
 * at the default settings the service hands the model anything from one input
 * (an idle service, one request) to its largest call (under load), so no
 * single batch size is "the default"; each size weighs the same, and the
 * geometric mean is the mean that suits ratios (it is not pulled up by one
 * large ratio, and the mean of old/new is exactly its inverse). Each batch
 * size's own pass or miss is reported beside it, so a miss at one is visible.
 *
 * The service never makes a call larger than INFERMESH_MAX_BATCH inputs or
 * INFERMESH_MAX_BATCH_TOKENS padded tokens, so larger cells (long texts at 32
 * and 64) measure the runtime beyond what the service asks of it: each kind
 * also reports its largest service call and the mean over the cells within it.
 */
export function goalCheck(cells: Cell[], service: { maxBatch: number; maxBatchTokens: number }) {
  const out: Record<string, unknown> = {
    definition: `per text kind, geometric mean over batch sizes of ${DEFAULT_MODEL}'s inputs/s ÷ ${BASELINE}'s (each measured in its own process, same texts, alternated rounds); each batch size also reported on its own`,
  };
  const mean = (cs: Cell[]) => Math.round(geomean(cs.map((c) => c.ratio[DEFAULT_MODEL]!)) * 100) / 100;
  for (const kind of Object.keys(GOALS) as TextKind[]) {
    const mine = cells.filter((c) => c.kind === kind);
    if (mine.length === 0) continue;
    const tokens = Math.max(...mine.map((c) => c.runtimes[DEFAULT_MODEL]!.tokens_per_input));
    const largest = Math.max(1, Math.min(service.maxBatch, Math.floor(service.maxBatchTokens / Math.ceil(tokens))));
    const within = mine.filter((c) => c.batch <= largest);
    out[kind] = {
      target: GOALS[kind],
      geomean_ratio: mean(mine),
      met: mean(mine) >= GOALS[kind],
      per_batch: Object.fromEntries(mine.map((c) => [c.batch, { ratio: c.ratio[DEFAULT_MODEL], met: c.ratio[DEFAULT_MODEL]! >= GOALS[kind] }])),
      largest_service_call: { inputs: largest, why: `INFERMESH_MAX_BATCH ${service.maxBatch}, INFERMESH_MAX_BATCH_TOKENS ${service.maxBatchTokens} ÷ ~${Math.ceil(tokens)} tokens per input` },
      ...(within.length > 0 ? { geomean_ratio_within_service_calls: mean(within) } : {}),
    };
  }
  return out;
}

export async function sideBySide(o: SideBySideOptions): Promise<{ cells: Cell[]; cpuMs: number }> {
  const cells: Cell[] = [];
  let cpuMs = 0;
  for (const kind of o.kinds ?? (Object.keys(TEXT_WORDS) as TextKind[])) {
    for (const batch of o.batches ?? SIDE_BY_SIDE_BATCHES) {
      const r = await runCell(kind, batch, o);
      cells.push(r.cell);
      cpuMs += r.cpuMs;
      console.log(formatCell(r.cell));
    }
  }
  return { cells, cpuMs };
}

/** One line per cell: each runtime's inputs/s, p50 and peak RSS, and the ratios. */
export function formatCell(c: Cell): string {
  const parts = Object.entries(c.runtimes).map(([name, r]) => `${name} ${r.inputs_per_sec}/s p50 ${r.p50_ms} ms ${r.max_rss_mb} MB`);
  const ratios = Object.entries(c.ratio).map(([name, x]) => `${name} ${x}×`);
  return `${c.kind.padEnd(5)} batch ${String(c.batch).padStart(2)}: ${parts.join(" | ")} → ${ratios.join(", ")}`;
}

/** The whole comparison as a Markdown table (printed at the end, ready for the README). */
export function formatTable(cells: Cell[]): string {
  const [base, model, extra] = RUNTIMES;
  const head = `| texts | batch | ${base} inputs/s | ${model} inputs/s | ratio | p50 ms (old / new) | peak RSS MB (old / new) | ${extra} inputs/s (ratio) |`;
  const rows = cells.map((c) => {
    const [o, n, x] = RUNTIMES.map((r) => c.runtimes[r]!);
    return `| ${c.kind} | ${c.batch} | ${o!.inputs_per_sec} | ${n!.inputs_per_sec} | ${c.ratio[model]}× | ${o!.p50_ms} / ${n!.p50_ms} | ${o!.max_rss_mb} / ${n!.max_rss_mb} | ${x!.inputs_per_sec} (${c.ratio[extra]}×) |`;
  });
  return [head, `|${"---|".repeat(8)}`, ...rows].join("\n");
}
