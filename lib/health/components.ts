import "server-only";
import type { ConsoleConfig } from "../config/console";
import { probeKafka } from "../kafka/health";
import type { Logger } from "../log";
import { httpComponent } from "./http-probe";
import { indexerGroupComponent } from "../upstreams/indexers";
import { NOT_IN_USE_WHY } from "./in-use";
import type { HealthComponent } from "./probe";

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function kafkaComponent(cfg: ConsoleConfig, log: Logger): HealthComponent {
  return {
    name: "kafka",
    kind: "kafka",
    target: cfg.kafkaBrokers.join(","),
    probe: async (signal) => {
      const c = await probeKafka({ brokers: cfg.kafkaBrokers, log, signal, connectionTimeoutMs: cfg.healthTimeoutMs });
      const controller = c.controller === null ? "no controller" : `controller ${c.controller}`;
      return { detail: `cluster ${c.clusterId} · ${plural(c.brokers, "broker")} · ${controller}` };
    },
  };
}

function formatUptime(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/**
 * The embedding service's /health names its model and dimension (InferMesh-compatible servers may not).
 * One row per INFERMESH_URL instance: `embedding-service`, then `embedding-service-1`, `-2`… (as `npm start -- --embedders N` numbers them).
 */
function embeddingServiceComponents(cfg: ConsoleConfig): HealthComponent[] {
  return cfg.infermeshUrls.map((url, i) =>
    httpComponent(i === 0 ? "embedding-service" : `embedding-service-${i}`, `${url}/health`, (body) => {
      const b = body as { model?: unknown; dim?: unknown } | null;
      return typeof b?.model === "string" ? `model ${b.model}${typeof b.dim === "number" ? ` · ${b.dim} dims` : ""}` : null;
    }),
  );
}

interface WorkerHealthBody {
  status?: unknown;
  reasons?: { component?: unknown; reason?: unknown }[];
  partitions?: { topic?: unknown; partition?: unknown; offset?: unknown; reason?: unknown }[];
}

/** Partitions and dependencies named in one line: the first few, then how many more. */
const MAX_NAMED = 3;

/** Why a worker says it is degraded, from its own /health body (`lib/http` workers all answer this shape). */
export function degradedReasons(b: WorkerHealthBody): string {
  const lines = [
    ...(Array.isArray(b.reasons) ? b.reasons : []).map((r) => `${String(r.component)}: ${String(r.reason)}`),
    ...(Array.isArray(b.partitions) ? b.partitions : []).map((p) => {
      const partition = typeof p.topic === "string" ? `${p.topic}[${String(p.partition)}]` : `partition ${String(p.partition)}`;
      const where = p.offset === null || p.offset === undefined ? partition : `${partition} at offset ${String(p.offset)}`;
      return `${where}: ${String(p.reason)}`;
    }),
  ];
  const named = lines.slice(0, MAX_NAMED).join("; ");
  return lines.length > MAX_NAMED ? `${named}; and ${lines.length - MAX_NAMED} more` : named;
}

/**
 * A pipeline worker: it answers 200 while degraded (waiting an outage out, a
 * partition not advancing, paused), so the body, not the status line, says
 * whether it is healthy; `describe` adds the detail of a healthy one.
 */
function workerComponent(name: string, url: string, describe?: (body: Record<string, unknown>) => string | null): HealthComponent {
  return httpComponent(name, url, (body) => {
    const b = (body && typeof body === "object" ? body : {}) as WorkerHealthBody & Record<string, unknown>;
    if (b.status === "degraded") {
      const why = degradedReasons(b);
      throw new Error(`degraded${why ? ` (${why})` : ""}`);
    }
    return describe?.(b) ?? null;
  });
}

/** The TypeScript parse worker; not part of a stack that runs the Spark job instead (the launcher's list says which runs). */
export const PARSE_WORKER_PROCESS = "parse-worker";
/** The Spark parse job (`npm start -- --spark`), the parse worker's alternative. */
export const SPARK_PROCESS = "spark";

/** The Spark job's application, as the console's Spark panel looks it up. */
const SPARK_APP = "kafka_vectorizer";

/** Spark's REST API answering is not enough: the parse job's application must be there and not completed. */
function sparkComponent(cfg: ConsoleConfig): HealthComponent {
  const c = httpComponent("spark", `${cfg.sparkUrl}/applications`, (body) => {
    const app = (Array.isArray(body) ? (body as { id?: unknown; name?: unknown; attempts?: { completed?: unknown }[] }[]) : []).find(
      (a) => a.name === SPARK_APP && a.attempts?.[0]?.completed !== true,
    );
    if (!app) throw new Error(`no running Spark application named ${SPARK_APP}`);
    return `${SPARK_APP} · ${String(app.id)}`;
  });
  return { ...c, process: SPARK_PROCESS };
}

/** RedDB: probed when REDDB_URL is set; otherwise listed as not in use, so the page says why it is absent. */
function reddbComponent(cfg: ConsoleConfig): HealthComponent {
  if (cfg.reddb) return httpComponent("reddb", `${cfg.reddb.url}/health`);
  return { name: "reddb", kind: "http", target: "REDDB_URL unset", probe: async () => undefined, notInUse: NOT_IN_USE_WHY.reddb };
}

/** The console itself: answering this request is the check; the detail says how it runs. */
function consoleComponent(): HealthComponent {
  return {
    name: "console",
    kind: "process",
    target: `pid ${process.pid}`,
    probe: async () => {
      const rssMb = Math.round(process.memoryUsage.rss() / (1024 * 1024));
      return { detail: `up ${formatUptime(process.uptime())} · rss ${rssMb} MB · node ${process.versions.node}` };
    },
  };
}

/**
 * What `GET /api/health` probes, in display order (Kafka first). A process with an
 * HTTP /health endpoint joins with one line, for example:
 *   httpComponent("embed-worker", new URL("/health", cfg.embedWorkerMetricsUrl).href),
 */
export function healthComponents(cfg: ConsoleConfig, log: Logger): HealthComponent[] {
  return [
    kafkaComponent(cfg, log),
    ...embeddingServiceComponents(cfg),
    reddbComponent(cfg),
    { ...workerComponent("parse-worker", `${cfg.parseMetricsUrl}/health`), process: PARSE_WORKER_PROCESS },
    sparkComponent(cfg),
    workerComponent("embed-worker", `${cfg.embedWorkerUrl}/health`),
    // Every indexer of INDEXER_GROUP, each probed as a worker (lib/upstreams/indexers.ts).
    indexerGroupComponent(cfg, (url) => workerComponent("indexer", url, (b) => (typeof b.total_ids === "number" ? `${b.total_ids} vectors` : null))),
    consoleComponent(),
  ];
}
