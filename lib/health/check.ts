import "server-only";
import { consoleConfig } from "../config/console";
import { createLogger, type Logger } from "../log";
import { healthComponents } from "./components";
import { launcherRuns, NOT_IN_USE_WHY, notInUse, overallStatus, settleParseStages } from "./in-use";
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
  const probed = await Promise.all(
    components.map((c) => {
      if (c.notInUse) return notInUse(c, c.notInUse);
      // A process npm start did not start (Spark without --spark, the parse worker with it) is not down: it is not in use.
      if (c.process && launcherRuns(supervisor, c.process) === false) return notInUse(c, NOT_IN_USE_WHY[c.process as keyof typeof NOT_IN_USE_WHY] ?? "npm start does not run it");
      return runProbe(c, timeoutMs);
    }),
  );
  // Without the launcher the answers say which parse stage this stack runs.
  const results = supervisor.supervised ? probed : settleParseStages(probed);
  logTransitions(log, results);
  return {
    status: overallStatus(results),
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
