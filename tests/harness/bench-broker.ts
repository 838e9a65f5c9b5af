import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { StackConfig } from "../../lib/config/stack";
import type { Logger } from "../../lib/log";
import { ensureKafkaInstalled, startLocalBroker } from "../../scripts/kafka/broker";
import { freePort } from "./free-port";

export interface BenchBroker {
  brokers: string[];
  /** The broker's process id when the bench started it (for CPU and memory sampling); undefined on an external cluster. */
  pid(): number | undefined;
  /** True when the bench started it (a local single-node KRaft broker), false for KAFKA_BOOTSTRAP_SERVERS. */
  own: boolean;
  /** Stops a broker the bench started and removes its data; nothing for an external cluster. */
  stop(): Promise<void>;
}

/** The cluster KAFKA_BOOTSTRAP_SERVERS names, or a broker of the bench's own on free ports in a temp dir. */
export async function benchBroker(stack: StackConfig, name: string, log: Logger): Promise<BenchBroker> {
  if (stack.kafka.external) return { brokers: stack.kafka.brokers, pid: () => undefined, own: false, stop: async () => {} };
  const dir = mkdtempSync(path.join(tmpdir(), `${name}-kafka-`));
  const broker = await startLocalBroker({ ...stack.kafka, port: await freePort(), controllerPort: await freePort(), dir }, log, { classpath: await ensureKafkaInstalled(log), onOutput: () => {} });
  return {
    brokers: broker.brokers,
    pid: () => broker.child.pid,
    own: true,
    stop: async () => {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
