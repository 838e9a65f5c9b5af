/**
 * Chaos under a running `npm start`: steady input to agent.results while each
 * process of the stack is killed with SIGKILL in turn; each must come back by
 * itself (the launcher's supervision), and at the end every input record must
 * be exactly once in Kafka `embeddings` (read_committed), in the Parquet sink
 * and in the index. Shared by tests/integration/chaos.test.ts and `npm run chaos`
 * (bench/chaos.ts), which prints the recovery times and keeps them as JSON.
 */
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { embedParquetDir } from "../../lib/config/paths";
import type { SupervisedProcessState } from "../../lib/health/supervisor-state";
import { createKafka } from "../../lib/kafka/client";
import { createLogger } from "../../lib/log";
import { readParquetDir } from "./parquet";
import { produce } from "./produce";
import { readTopic } from "./read-topic";
import { npmStart, type NpmStack } from "./npm-start";
import { descendants, isAlive } from "./processes";
import { waitFor } from "./wait-for";
import { runId } from "./unique";

/** Every process of the default stack, in the order they are killed. */
export const chaosTargets = ["parse-worker", "embed-worker", "emb-indexer", "infermesh", "kafka", "console"] as const;

export interface Recovery {
  process: string;
  killed_pid: number;
  new_pid: number;
  /** SIGKILL → the launcher saw the new instance ready (its readiness check answered). */
  recovered_sec: number;
  /** SIGKILL → every record produced before the kill is in the index: the pipeline caught up. */
  caught_up_sec: number;
}

export interface ChaosReport {
  date: string;
  machine: { cpus: number; model: string };
  records: number;
  duration_sec: number;
  stack_start_sec: number;
  recoveries: Recovery[];
  /** Restarts per process at the end, as the launcher counts them (a broker kill may also restart its clients). */
  restarts: Record<string, number>;
  exactly_once: {
    ok: boolean;
    embeddings: { records: number; distinct: number; missing: number; duplicated: number };
    parquet: { rows: number; distinct: number; missing: number; duplicated: number };
    index: { total_ids: number; expected: number };
    dlq: { parse: number; embed: number };
  };
  /** The launcher stopped on SIGINT with exit code 0 and left no process behind. */
  clean_stop: boolean;
}

export interface ChaosOptions {
  /** Records produced per second while the processes are killed. */
  ratePerSec?: number;
  targets?: readonly string[];
  /** Progress lines. */
  say?: (line: string) => void;
}

const INPUT_TOPIC = "agent.results";

/** How `counts` (doc_id → times seen) compares with what was produced. */
function compare(expected: Map<string, number>, seen: string[]) {
  const counts = new Map<string, number>();
  for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
  let missing = 0;
  let duplicated = 0;
  for (const [id, n] of expected) {
    const got = counts.get(id) ?? 0;
    if (got < n) missing++;
    if (got > n) duplicated++;
  }
  const foreign = [...counts.keys()].filter((id) => !expected.has(id)).length;
  return { records: seen.length, distinct: counts.size, missing, duplicated: duplicated + foreign };
}

async function indexTotal(stack: NpmStack): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${stack.ports.indexer}/knn/shards`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { total_ids?: unknown };
  if (typeof body.total_ids !== "number") throw new Error(`indexer /knn/shards: ${res.status}`);
  return body.total_ids;
}

const byName = (stack: NpmStack) => new Map<string, SupervisedProcessState>(stack.state().processes.map((p) => [p.name, p]));

export async function runChaos(opts: ChaosOptions = {}): Promise<ChaosReport> {
  const say = opts.say ?? ((line: string) => process.stdout.write(`chaos: ${line}\n`));
  const ratePerSec = opts.ratePerSec ?? 5;
  const targets = opts.targets ?? chaosTargets;
  const began = Date.now();
  // The launcher at warn: its restart lines stay, the per-batch info lines go.
  const stack = await npmStart({ LOG_LEVEL: "warn" }, "chaos");
  try {
    say(`starting the stack (npm start) in ${stack.dataDir}`);
    // A first start may build the console (next build): minutes on a busy 2-core machine.
    await Promise.race([
      waitFor("the stack to start", () => stack.run.output().includes("Embedline is running"), 300_000, 500),
      stack.run.exited.then((code) => Promise.reject(new Error(`npm start exited with code ${code} before the stack was up`))),
    ]);
    const stackStartSec = (Date.now() - began) / 1000;
    say(`stack up in ${stackStartSec.toFixed(1)} s`);

    const kafka = createKafka({ clientId: "chaos", brokers: [`127.0.0.1:${stack.ports.kafka}`], log: createLogger("chaos", "silent") });
    const run = runId();
    const idOf = (i: number) => `chaos-${run}-${i}`;
    const producer = {
      produced: 0,
      paused: false,
      stopped: false,
      inFlight: Promise.resolve(),
      errors: 0,
    };
    // Steady input: a small batch every 200 ms. Paused only while the broker is
    // down, as no producer can write to a one-broker cluster then anyway.
    const perBatch = Math.max(1, Math.round(ratePerSec / 5));
    const producing = (async () => {
      while (!producer.stopped) {
        if (!producer.paused) {
          const from = producer.produced;
          const values = Array.from({ length: perBatch }, (_, j) => JSON.stringify({ id: idOf(from + j), text: `chaos record ${from + j}: the pipeline keeps running through a kill -9` }));
          producer.inFlight = produce(kafka, INPUT_TOPIC, values, (j) => idOf(from + j)).then(
            () => void (producer.produced += perBatch),
            () => void producer.errors++,
          );
          await producer.inFlight;
        }
        await delay(200);
      }
    })();

    // Records flow end to end before the first kill.
    await waitFor("the first records in the index", async () => producer.produced >= 20 && (await indexTotal(stack)) >= 20, 120_000, 250);
    const recoveries: Recovery[] = [];
    for (const name of targets) {
      await waitFor("every process running before the next kill", () => [...byName(stack).values()].every((p) => p.state === "running"), 120_000, 250);
      const before = byName(stack).get(name);
      if (!before?.pid) throw new Error(`${name} is not a running process of the stack`);
      if (name === "kafka") {
        producer.paused = true;
        await producer.inFlight;
      }
      const producedAtKill = producer.produced;
      const killedAt = Date.now();
      process.kill(before.pid, "SIGKILL");
      say(`kill -9 ${name} (pid ${before.pid}) with ${producedAtKill} records produced`);
      const after = await waitFor(`${name} to be restarted and ready`, () => {
        const p = byName(stack).get(name);
        return p?.state === "running" && p.pid !== before.pid && p.started_ts !== null ? p : undefined;
      }, 180_000, 100);
      producer.paused = false;
      const recoveredSec = (after.started_ts! - killedAt) / 1000;
      await waitFor(`the index to catch up after ${name} came back`, async () => (await indexTotal(stack)) >= producedAtKill, 180_000, 250);
      const caughtUpSec = (Date.now() - killedAt) / 1000;
      recoveries.push({ process: name, killed_pid: before.pid, new_pid: after.pid!, recovered_sec: recoveredSec, caught_up_sec: caughtUpSec });
      say(`${name} back in ${recoveredSec.toFixed(1)} s (pid ${after.pid}), pipeline caught up in ${caughtUpSec.toFixed(1)} s`);
    }

    producer.stopped = true;
    await producing;
    const total = producer.produced;
    say(`input stopped at ${total} records (${producer.errors} failed sends retried); waiting for the index`);
    await waitFor(`all ${total} records in the index`, async () => (await indexTotal(stack)) >= total, 180_000, 250);

    const dlq = { parse: (await readTopic(kafka, "agent.results.dlq")).length, embed: (await readTopic(kafka, "embeddings_dlq")).length };
    const indexIds = await indexTotal(stack);
    const outputIds = (await readTopic(kafka, "embeddings")).map((r) => String((JSON.parse(r.value) as { doc_id: unknown }).doc_id));
    const parquetIds = readParquetDir(embedParquetDir(stack.dataDir, undefined)).map((r) => String(r.doc_id));
    // What is in agent.results is the truth: a send retried after a lost ack may have written a record twice.
    const input = await readTopic(kafka, INPUT_TOPIC);
    const expected = new Map<string, number>();
    for (const r of input) {
      const id = (JSON.parse(r.value) as { id: string }).id;
      expected.set(id, (expected.get(id) ?? 0) + 1);
    }
    const embeddings = compare(expected, outputIds);
    const parquet = compare(expected, parquetIds);
    const exactlyOnce = {
      ok: embeddings.missing + embeddings.duplicated + parquet.missing + parquet.duplicated === 0 && indexIds === expected.size && dlq.parse + dlq.embed === 0,
      embeddings: { records: embeddings.records, distinct: embeddings.distinct, missing: embeddings.missing, duplicated: embeddings.duplicated },
      parquet: { rows: parquet.records, distinct: parquet.distinct, missing: parquet.missing, duplicated: parquet.duplicated },
      index: { total_ids: indexIds, expected: expected.size },
      dlq,
    };
    const restarts = Object.fromEntries([...byName(stack).values()].map((p) => [p.name, p.restarts]));

    // Ctrl-C: everything stops, in reverse order, nothing left behind.
    const tree = descendants(stack.run.child.pid!);
    process.kill(-stack.run.child.pid!, "SIGINT");
    const code = await Promise.race([stack.run.exited, delay(120_000, "timeout" as const)]);
    await waitFor("every process of the stack to be gone", () => tree.every((pid) => !isAlive(pid)), 30_000).catch(() => undefined);
    const cleanStop = code === 0 && tree.every((pid) => !isAlive(pid));

    return {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "unknown" },
      records: input.length,
      duration_sec: (Date.now() - began) / 1000,
      stack_start_sec: stackStartSec,
      recoveries,
      restarts,
      exactly_once: exactlyOnce,
      clean_stop: cleanStop,
    };
  } catch (err) {
    const tail = stack.run.output().split("\n").slice(-60).join("\n");
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- last lines of npm start (${path.relative(process.cwd(), stack.dataDir)}):\n${tail}`, { cause: err });
  } finally {
    await stack.destroy();
  }
}

/** The recovery table `npm run chaos` prints. */
export function recoveryTable(report: ChaosReport): string {
  const rows = report.recoveries.map((r) => `| ${r.process.padEnd(12)} | ${r.recovered_sec.toFixed(1).padStart(13)} | ${r.caught_up_sec.toFixed(1).padStart(13)} | ${String(report.restarts[r.process] ?? 0).padStart(8)} |`);
  return ["| process      | recovered (s) | caught up (s) | restarts |", "|--------------|---------------|---------------|----------|", ...rows].join("\n");
}
