import { appendFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { parseStackConfig } from "../lib/config/stack";
import { createLogger } from "../lib/log";
import { repoRoot, startStack } from "../scripts/launcher";

/**
 * The browser tests run against the real stack — Kafka and the console's
 * production build — started through the launcher, as `npm start` does.
 * `npm test` hands over free ports and a throwaway DATA_DIR; run by hand, the
 * defaults apply but the data stays apart from a dev stack's.
 */
export default async function globalSetup() {
  const env = { ...process.env, DATA_DIR: process.env.DATA_DIR ?? path.join(repoRoot, "data", "test", "e2e") };
  const cfg = parseStackConfig(env);
  const log = createLogger("e2e-stack", "warn");
  // The stack's own output goes to a file beside its data, to read when a test fails.
  mkdirSync(cfg.dataDir, { recursive: true });
  const logFile = path.join(cfg.dataDir, "stack.log");
  const onLine = (name: string, line: string) => appendFileSync(logFile, `${name} | ${line}\n`);
  const stack = await startStack({ cfg, env, flags: new Set(), log, onLine });
  // Test workers inherit this process's environment: tell them where the broker is.
  process.env.KAFKA_BOOTSTRAP_SERVERS = stack.brokers.join(",");
  return async () => {
    await stack.stop();
  };
}
