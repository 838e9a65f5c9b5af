import { z } from "zod";

/**
 * What `npm start`'s launcher publishes about the processes it supervises, in
 * the JSON file named by LAUNCHER_STATE_FILE (replaced atomically on every
 * change). The launcher writes it, the console reads it for `/api/health` and
 * the Overview. Safe to import from client code: no I/O here.
 */
export const processStates = ["starting", "running", "restarting", "crash-loop", "stopped"] as const;

export const exitReasonSchema = z.object({
  /** Exit code, or null when a signal ended it. */
  code: z.number().int().nullable(),
  signal: z.string().nullable(),
  /** Epoch milliseconds of the exit (or of the failed start). */
  ts: z.number(),
  /** The last meaningful line it printed (an error when there was one), bounded. */
  error: z.string().nullable(),
});

export const supervisedProcessSchema = z.object({
  name: z.string().min(1),
  state: z.enum(processStates),
  /** OS process id of the running instance; null while down. */
  pid: z.number().int().nullable(),
  /** Restarts since `npm start` started it. */
  restarts: z.number().int().nonnegative(),
  /** Epoch milliseconds the running instance was started; null while down. */
  started_ts: z.number().nullable(),
  last_exit: exitReasonSchema.nullable(),
  /** While restarting: epoch milliseconds of the next attempt. */
  next_restart_ts: z.number().nullable(),
});

export const supervisorStateSchema = z.object({
  launcher_pid: z.number().int(),
  started_ts: z.number(),
  updated_ts: z.number(),
  crash_loop: z.object({ restarts: z.number().int(), window_sec: z.number() }),
  processes: z.array(supervisedProcessSchema),
});

export type ExitReason = z.infer<typeof exitReasonSchema>;
export type SupervisedProcessState = z.infer<typeof supervisedProcessSchema>;
export type SupervisorState = z.infer<typeof supervisorStateSchema>;

/** What `/api/health` says about supervision: the launcher's state, or why there is none. */
export const supervisionReportSchema = z.discriminatedUnion("supervised", [
  z.object({ supervised: z.literal(true), state: supervisorStateSchema }),
  z.object({ supervised: z.literal(false), reason: z.string() }),
]);

export type SupervisionReport = z.infer<typeof supervisionReportSchema>;

/** "exit code 1", "signal SIGKILL": how an exit reads in a log line and on the page. */
export function describeExit(exit: Pick<ExitReason, "code" | "signal">): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code ?? "?"}`;
}
