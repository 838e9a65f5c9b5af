import type { StackConfig } from "../../lib/config/stack";
import { StackError } from "../stack-error";
import { assertPortFree } from "./ports";
import type { StackProcess } from "./processes";

/** One process the launcher starts: a declared process, or instance i of a scaled one. */
export interface PlannedProcess {
  process: StackProcess;
  /** `infermesh`, `infermesh-1`, … : its name in the logs, the state file and the console. */
  name: string;
  instance: number;
  /** The configuration it sees (its own port). */
  cfg: StackConfig;
  port: number;
  /** What its environment adds to the stack's. */
  env: Record<string, string>;
}

/**
 * Every process to start, in order: a scaled process's instances one after
 * the other (`emb-indexer`, `emb-indexer-1`, …, on port, port + 1, …).
 */
export function planProcesses(selected: readonly StackProcess[], cfg: StackConfig): PlannedProcess[] {
  return selected.flatMap((p) => {
    const count = p.scale && !p.external?.(cfg) ? cfg.scale[p.scale.count] : 1;
    return Array.from({ length: count }, (_, i) => {
      const at = p.scale ? p.scale.at(cfg, i) : cfg;
      return { process: p, name: i === 0 ? p.name : `${p.name}-${i}`, instance: i, cfg: at, port: p.port(at), env: p.scale?.env(cfg, i) ?? {} };
    });
  });
}

/**
 * Refuse, in one line, a plan whose ports go past 65535 or land on each other
 * (`--embedders 101` from 9000 reaches the embed-worker's 9100). Ports taken by
 * another process are checked after (assertPortFree), before anything starts.
 */
export function checkPortPlan(plan: readonly PlannedProcess[], cfg: StackConfig): void {
  const owners = new Map<number, PlannedProcess>();
  for (const p of plan) {
    if (p.process.external?.(cfg)) continue;
    const variable = p.process.portVariable;
    if (p.port > 65535) {
      throw new StackError(`port ${p.port} for ${p.name} is past 65535: start fewer instances or lower ${variable}`);
    }
    const other = owners.get(p.port);
    if (other) {
      const scaled = p.process.scale ?? other.process.scale;
      const flag = scaled ? ` or start fewer (--${scaled.count})` : "";
      throw new StackError(`port ${p.port} for ${p.name} is also ${other.name}'s: move one (${variable} or ${other.process.portVariable})${flag}`);
    }
    owners.set(p.port, p);
  }
  // The local broker's controller listens too.
  if (!cfg.kafka.external) {
    const clash = owners.get(cfg.kafka.controllerPort);
    if (clash) throw new StackError(`port ${cfg.kafka.controllerPort} for ${clash.name} is also the Kafka controller's: move one (${clash.process.portVariable} or KAFKA_CONTROLLER_PORT)`);
  }
}

/** Every port the plan starts something on must be free now: one line naming the first taken one, its process and variable. */
export async function assertPlanPortsFree(plan: readonly PlannedProcess[], cfg: StackConfig): Promise<void> {
  for (const { process: p, name, port } of plan) {
    if (!p.external?.(cfg)) await assertPortFree(port, name, p.portVariable);
  }
}
