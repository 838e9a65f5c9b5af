import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { parseStackConfig } from "../../lib/config/stack";
import { localModels } from "../../lib/embedding/registry";
import { createLogger } from "../../lib/log";
import { ensureModelsInstalled } from "../../scripts/install/models";
import { ensureKafkaInstalled, startLocalBroker } from "../../scripts/kafka/broker";
import { freePort } from "../harness/free-port";

const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

/**
 * The bundled models' files, then one Kafka cluster for the whole integration run. With KAFKA_BOOTSTRAP_SERVERS set,
 * tests use that cluster; otherwise a real local broker is started on free ports
 * (never 9092/9093, so a running dev stack is left alone) with a fresh data dir
 * that is removed afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cfg = parseStackConfig(process.env);
  const log = createLogger("integration-kafka", process.env.LOG_LEVEL ?? "warn");
  // Both bundled models' files, verified (a stat when `npm test` installed them already). At
  // info: a first run downloads ~160 MB, and should say so.
  await ensureModelsInstalled(createLogger("integration-models", process.env.LOG_LEVEL ?? "info"), { models: localModels(), cacheDir: cfg.modelCacheDir });

  if (cfg.kafka.external) {
    project.provide("kafkaBrokers", cfg.kafka.brokers);
    return async () => {};
  }

  const dir = path.join(repoRoot, "data", "test", `kafka-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const output: string[] = [];
  try {
    const classpath = await ensureKafkaInstalled(log);
    const broker = await startLocalBroker(
      { ...cfg.kafka, port: await freePort(), controllerPort: await freePort(), dir },
      log,
      // Kept quiet unless the run fails: the broker's WARN lines are shown then.
      { classpath, onOutput: (line) => output.push(line) > 200 && output.shift() },
    );
    project.provide("kafkaBrokers", broker.brokers);
    return async () => {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    if (output.length > 0) process.stderr.write(`kafka broker output:\n${output.slice(-40).join("\n")}\n`);
    throw err;
  }
}
