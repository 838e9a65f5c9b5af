import "server-only";
import type { ConsoleConfig } from "../config/console";
import { probeKafka } from "../kafka/health";
import type { Logger } from "../log";
import { httpComponent } from "./http-probe";
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

/** The embedding service's /health names its model and dimension (InferMesh-compatible servers may not). */
function embeddingServiceComponent(cfg: ConsoleConfig): HealthComponent {
  return httpComponent("embedding-service", `${cfg.infermeshUrl}/health`, (body) => {
    const b = body as { model?: unknown; dim?: unknown } | null;
    return typeof b?.model === "string" ? `model ${b.model}${typeof b.dim === "number" ? ` · ${b.dim} dims` : ""}` : null;
  });
}

/** The embed-worker answers 200 while degraded (it waits outages out); the reasons say what it waits for. */
function embedWorkerComponent(cfg: ConsoleConfig): HealthComponent {
  return httpComponent("embed-worker", `${cfg.embedWorkerUrl}/health`, (body) => {
    const b = body as { status?: unknown; paused?: unknown; reasons?: { component?: unknown; reason?: unknown }[] } | null;
    if (b?.status === "degraded") {
      const reasons = (b.reasons ?? []).map((r) => `${String(r.component)}: ${String(r.reason)}`).join("; ");
      throw new Error(`degraded${reasons ? ` (${reasons})` : ""}`);
    }
    return b?.paused === true ? "paused by an operator" : null;
  });
}

function indexerComponent(cfg: ConsoleConfig): HealthComponent {
  return httpComponent("indexer", `${cfg.indexerUrl}/health`, (body) => {
    const b = body as { total_ids?: unknown; status?: unknown } | null;
    return typeof b?.total_ids === "number" ? `${b.total_ids} vectors` : null;
  });
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
    embeddingServiceComponent(cfg),
    ...(cfg.reddb ? [httpComponent("reddb", `${cfg.reddb.url}/health`)] : []),
    embedWorkerComponent(cfg),
    indexerComponent(cfg),
    consoleComponent(),
  ];
}
