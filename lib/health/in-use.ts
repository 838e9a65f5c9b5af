import type { ComponentHealth } from "./schema";
import type { SupervisionReport } from "./supervisor-state";

/**
 * Which components are part of the running configuration. A component that is
 * not (Spark beside the TypeScript parse worker, RedDB when none is configured)
 * is reported as `not_in_use` with a one-line why: grey on the page, never red,
 * and left out of `/api/health`'s overall status. Red is kept for something
 * configured and failing. Safe to import from client code: no I/O here.
 *
 * How it is decided:
 * - RedDB: in use when REDDB_URL is set (the launcher sets it with --reddb).
 * - Under `npm start` (LAUNCHER_STATE_FILE names a live launcher): the parse
 *   worker and the Spark job are in use when the launcher runs them; it runs
 *   exactly one of the two (`--spark` picks Spark).
 * - Without the launcher (docker-compose, a console run by hand) nothing says
 *   which parse stage was chosen, so the answers decide: the two are
 *   alternatives, and one that fails while the other answers is not in use
 *   (docker-compose runs Spark unless the `parse-worker` profile is on and Spark stopped).
 *   When neither answers, both are down: the pipeline has no parse stage.
 */
export const NOT_IN_USE_WHY = {
  spark: "the stack runs the TypeScript parse worker (npm start without --spark)",
  "parse-worker": "the stack runs the Spark parse job instead (npm start -- --spark)",
  reddb: "no REDDB_URL configured: RedDB is an optional sink (npm start -- --reddb starts one)",
} as const;

/** Without the launcher: why the failing one of the two parse stages is taken as not in use. */
export const ALTERNATIVE_WHY: Record<ParseStage, string> = {
  spark: "Spark's REST API does not answer and the TypeScript parse worker does: the stack parses with the worker (docker-compose --profile parse-worker, Spark stopped)",
  "parse-worker": "the parse worker does not answer and the Spark job does: the stack parses with Spark (docker-compose's default)",
};

export type ParseStage = "spark" | "parse-worker";

/** Whether the launcher runs a process: true/false under `npm start`, undefined without it. */
export function launcherRuns(report: SupervisionReport, process: string): boolean | undefined {
  return report.supervised ? report.state.processes.some((p) => p.name === process) : undefined;
}

/** A component that is not part of the running configuration: not probed, not failing. */
export function notInUse(c: Pick<ComponentHealth, "name" | "kind" | "target">, why: string): ComponentHealth {
  return { name: c.name, kind: c.kind, target: c.target, state: "not_in_use", ok: true, latencyMs: null, error: null, detail: why };
}

/**
 * Without the launcher: of the two parse stages, one that is down while the
 * other is ok is not in use. Both down stay down; both ok stay ok.
 */
export function settleParseStages(results: ComponentHealth[]): ComponentHealth[] {
  const byName = new Map(results.map((r) => [r.name, r]));
  const other: Record<ParseStage, ParseStage> = { spark: "parse-worker", "parse-worker": "spark" };
  return results.map((r) => {
    if (r.state !== "down" || !(r.name in other)) return r;
    const alt = byName.get(other[r.name as ParseStage]);
    return alt?.state === "ok" ? notInUse(r, ALTERNATIVE_WHY[r.name as ParseStage]) : r;
  });
}

/** `/api/health`'s overall status: only components in use count. */
export function overallStatus(results: readonly Pick<ComponentHealth, "state">[]): "ok" | "degraded" {
  return results.some((r) => r.state === "down") ? "degraded" : "ok";
}
