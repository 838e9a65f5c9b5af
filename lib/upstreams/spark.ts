import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { ALTERNATIVE_WHY, launcherRuns, NOT_IN_USE_WHY } from "@/lib/health/in-use";
import { readSupervision } from "@/lib/health/supervisor";
import { upstreamJson } from "./http";
import { planNewest, readRanges } from "./kafka";
import { nowSec } from "./rate";
import { stageFigures, type StageFigures } from "./stage";

const APP_NAME = "kafka_vectorizer";

interface SparkApp { id: string; name: string; attempts?: { startTime?: string; completed?: boolean; duration?: number }[] }
interface SparkJob { jobId: number; status: string; numTasks?: number; numCompletedTasks?: number }
interface SparkExecutor { id: string; isActive?: boolean; activeTasks?: number; completedTasks?: number; failedTasks?: number; totalCores?: number; memoryUsed?: number; maxMemory?: number }

export interface SparkProgress {
  batch_id: number | null;
  timestamp: string | null;
  num_input_rows: number | null;
  input_rows_per_sec: number | null;
  processed_rows_per_sec: number | null;
  batch_duration_ms: number | null;
}

export interface SparkEvent {
  /** `not_in_use`: the stack parses with the TypeScript worker (lib/health/in-use.ts); `message` says why. Grey, never red. */
  status: "running" | "not_running" | "unreachable" | "not_in_use";
  message?: string;
  application: { id: string; name: string; start_time: string | null; completed: boolean } | null;
  jobs: { active: number; succeeded: number; failed: number } | null;
  executors: { count: number; active_tasks: number; cores: number; memory_used: number; failed_tasks: number } | null;
  streaming: SparkProgress | null;
  parse_worker: Record<string, unknown> | null;
  /** The parse stage: the parse worker's stage_window, or Spark's processed rows/s (Spark publishes no per-record latency). */
  parse_stage: StageFigures | null;
  timestamp: number;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** Events looked at for the newest progress: idle heartbeats come every 10 s, batches every second. */
const PROGRESS_LOOKBACK = 50;

/**
 * The newest progress of the Kafka query among the events the job publishes to
 * SPARK_PROGRESS_TOPIC: `{event, query, ts, progress?}` with Spark's own
 * StreamingQueryProgress JSON under `progress` (spark/README.md).
 */
async function latestProgress(signal: AbortSignal): Promise<SparkProgress | null> {
  const { sparkProgressTopic } = consoleConfig();
  const plan = await planNewest(sparkProgressTopic, PROGRESS_LOOKBACK);
  let newest: { ts: number; progress: Record<string, unknown> } | undefined;
  await readRanges(plan, (m) => {
    if (!m.value || (newest && m.timestamp <= newest.ts)) return;
    try {
      const e = JSON.parse(m.value.toString("utf8")) as { event?: unknown; query?: unknown; progress?: unknown };
      if (e.event === "progress" && e.query === "parse_to_kafka" && e.progress && typeof e.progress === "object") {
        newest = { ts: m.timestamp, progress: e.progress as Record<string, unknown> };
      }
    } catch {
      // Not one of the job's events: ignore it.
    }
  }, AbortSignal.any([signal, AbortSignal.timeout(3_000)]), "poll");
  if (!newest) return null;
  const p = newest.progress;
  const duration = (p.durationMs ?? {}) as Record<string, unknown>;
  return {
    batch_id: num(p.batchId),
    timestamp: typeof p.timestamp === "string" ? p.timestamp : null,
    num_input_rows: num(p.numInputRows),
    input_rows_per_sec: num(p.inputRowsPerSecond),
    processed_rows_per_sec: num(p.processedRowsPerSecond),
    batch_duration_ms: num(duration.triggerExecution),
  };
}

/** Spark's figures for the parse stage while its query reports progress; null otherwise. */
function sparkStage(p: SparkProgress | null): StageFigures | null {
  if (!p || p.processed_rows_per_sec === null) return null;
  return { records_per_sec: p.processed_rows_per_sec, records: p.num_input_rows, p50_ms: null, p99_ms: null, window_sec: null };
}

async function parseWorker(signal: AbortSignal): Promise<Record<string, unknown> | null> {
  return upstreamJson<Record<string, unknown>>(`${consoleConfig().parseMetricsUrl}/metrics`, { signal }).then((r) => r.body, () => null);
}

/** Real Spark REST figures of the `kafka_vectorizer` app; never simulated: an absent Spark is reported as such. */
export function sparkPoll() {
  return async (signal: AbortSignal): Promise<SparkEvent> => {
    const base = consoleConfig().sparkUrl;
    const parse_worker = await parseWorker(signal);
    const empty = { application: null, jobs: null, executors: null, streaming: null, parse_worker, parse_stage: stageFigures(parse_worker), timestamp: nowSec() };
    // Under npm start the launcher says whether Spark runs at all; asking its REST API would only fail.
    const supervision = await readSupervision(consoleConfig().launcherStateFile);
    if (launcherRuns(supervision, "spark") === false) return { status: "not_in_use", message: NOT_IN_USE_WHY.spark, ...empty };
    let apps: SparkApp[];
    try {
      apps = (await upstreamJson<SparkApp[]>(`${base}/applications`, { signal })).body ?? [];
    } catch (err) {
      // Without the launcher (docker-compose): Spark silent while the parse worker answers is the default stack, not an outage.
      if (!supervision.supervised && parse_worker) return { status: "not_in_use", message: ALTERNATIVE_WHY.spark, ...empty };
      return { status: "unreachable", message: `Spark REST API unreachable at ${base} (${(err as Error).message})`, ...empty };
    }
    const app = apps.find((a) => a.name === APP_NAME && !a.attempts?.[0]?.completed) ?? apps.find((a) => a.name === APP_NAME);
    if (!app) return { status: "not_running", message: `no Spark application named ${APP_NAME}`, ...empty };
    const enc = encodeURIComponent(app.id);
    const [jobs, executors, streaming] = await Promise.all([
      upstreamJson<SparkJob[]>(`${base}/applications/${enc}/jobs`, { signal }).then((r) => r.body ?? [], () => null),
      upstreamJson<SparkExecutor[]>(`${base}/applications/${enc}/executors`, { signal }).then((r) => r.body ?? [], () => null),
      latestProgress(signal).catch(() => null),
    ]);
    const attempt = app.attempts?.[0];
    return {
      status: attempt?.completed ? "not_running" : "running",
      application: { id: app.id, name: app.name, start_time: attempt?.startTime ?? null, completed: attempt?.completed ?? false },
      jobs: jobs && {
        active: jobs.filter((j) => j.status === "RUNNING").length,
        succeeded: jobs.filter((j) => j.status === "SUCCEEDED").length,
        failed: jobs.filter((j) => j.status === "FAILED").length,
      },
      executors: executors && {
        count: executors.length,
        active_tasks: executors.reduce((n, e) => n + (e.activeTasks ?? 0), 0),
        cores: executors.reduce((n, e) => n + (e.totalCores ?? 0), 0),
        memory_used: executors.reduce((n, e) => n + (e.memoryUsed ?? 0), 0),
        failed_tasks: executors.reduce((n, e) => n + (e.failedTasks ?? 0), 0),
      },
      streaming,
      parse_worker,
      parse_stage: sparkStage(streaming) ?? stageFigures(parse_worker),
      timestamp: nowSec(),
    };
  };
}
