import { z } from "zod";
import { supervisionReportSchema } from "./supervisor-state";

/**
 * Wire format of `GET /api/health`, shared by the route (which builds it) and the
 * browser (which parses it). Safe to import from client code: no secrets, no I/O.
 */
export const componentKinds = ["kafka", "http", "process"] as const;

/**
 * `ok` and `down` for a component the running configuration uses; `not_in_use`
 * for one it does not (Spark beside the parse worker, RedDB when none is
 * configured: lib/health/in-use.ts), shown grey and never counted as down.
 */
export const componentStates = ["ok", "down", "not_in_use"] as const;

export const componentHealthSchema = z.object({
  /** Stable id, also used in data-testid attributes: `kafka`, `console`, `embedding-service`… */
  name: z.string().min(1),
  kind: z.enum(componentKinds),
  /** What was probed: broker list, URL, or the console's own process. */
  target: z.string(),
  state: z.enum(componentStates),
  /**
   * False only for a component in use that failed its probe (`state: "down"`):
   * one that is not in use is not failing. Kept for clients that read a boolean.
   */
  ok: z.boolean(),
  /** Wall time of the probe, including a failure; `null` when it did not run (not in use). */
  latencyMs: z.number().nonnegative().nullable(),
  /** One readable line when `ok` is false, otherwise null. */
  error: z.string().nullable(),
  /** Optional one-line summary when ok (cluster id, broker count, uptime…); when not in use, why. */
  detail: z.string().nullable(),
});

export const healthResponseSchema = z.object({
  /** `degraded` when a component in use is down; components not in use never count. */
  status: z.enum(["ok", "degraded"]),
  components: z.array(componentHealthSchema),
  /** ISO-8601 time the check finished. */
  timestamp: z.iso.datetime(),
  /**
   * Restarts and last exits of the processes `npm start` supervises, or why there
   * are none (the console runs without the launcher). It never changes `status`:
   * a process restarting shows as a component down above.
   */
  supervisor: supervisionReportSchema.optional(),
});

export type ComponentHealth = z.infer<typeof componentHealthSchema>;
export type ComponentKind = ComponentHealth["kind"];
export type ComponentState = ComponentHealth["state"];
export type HealthResponse = z.infer<typeof healthResponseSchema>;
