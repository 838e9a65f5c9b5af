import "server-only";
import { consoleConfig } from "../config/console";
import { createLogger, type Logger } from "../log";
import { healthComponents } from "./components";
import { runProbe, type HealthComponent } from "./probe";
import type { ComponentHealth, HealthResponse } from "./schema";
import { readSupervision } from "./supervisor";

let state: { log: Logger; components: HealthComponent[]; timeoutMs: number; launcherStateFile: string | undefined } | undefined;
let inflight: Promise<HealthResponse> | undefined;
const lastOk = new Map<string, boolean>();

function setup() {
  if (!state) {
    const cfg = consoleConfig();
    const log = createLogger("console", cfg.logLevel).child({ module: "health" });
    state = { log, components: healthComponents(cfg, log), timeoutMs: cfg.healthTimeoutMs, launcherStateFile: cfg.launcherStateFile };
  }
  return state;
}

/** Log once per change of a component's state, not once per poll. */
function logTransitions(log: Logger, results: ComponentHealth[]) {
  for (const r of results) {
    const before = lastOk.get(r.name);
    lastOk.set(r.name, r.ok);
    if (before === r.ok) continue;
    if (!r.ok) log.warn({ component: r.name, target: r.target, error: r.error }, "component down");
    else if (before === false) log.info({ component: r.name, target: r.target, latencyMs: r.latencyMs }, "component recovered");
  }
}

async function runAll(): Promise<HealthResponse> {
  const { log, components, timeoutMs, launcherStateFile } = setup();
  const supervisor = await readSupervision(launcherStateFile);
  const running = supervisor.supervised ? new Set(supervisor.state.processes.map((p) => p.name)) : undefined;
  // A process npm start did not start (the parse worker beside --spark) is not down: it is not there.
  const probed = components.filter((c) => !c.process || !running || running.has(c.process));
  const results = await Promise.all(probed.map((c) => runProbe(c, timeoutMs)));
  logTransitions(log, results);
  return {
    status: results.every((r) => r.ok) ? "ok" : "degraded",
    components: results,
    timestamp: new Date().toISOString(),
    supervisor,
  };
}

/**
 * Probe every component concurrently, each under HEALTH_TIMEOUT_MS. Concurrent
 * callers (several open consoles, a readiness check) share one in-flight run,
 * so the broker sees one admin connection per round however many ask.
 */
export function checkHealth(): Promise<HealthResponse> {
  inflight ??= runAll().finally(() => {
    inflight = undefined;
  });
  return inflight;
}
