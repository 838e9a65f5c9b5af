import type { StackConfig } from "../../lib/config/stack";

/**
 * The processes of the stack, declared once. The launcher starts them in this
 * order; the compose file must have a service for each (tests/unit/compose.test.ts).
 */
export interface StackProcess {
  name: string;
  /** Service name in docker-compose.yml. */
  compose: string;
  port: (cfg: StackConfig) => number;
  /** Started only when this launcher flag is given (e.g. --reddb); always when absent. */
  flag?: string;
}

export const stackProcesses: StackProcess[] = [
  { name: "kafka", compose: "kafka", port: (cfg) => cfg.kafka.port },
  { name: "console", compose: "console", port: (cfg) => cfg.console.port },
];
