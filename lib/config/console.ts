import "server-only";
import { parseEnv, type RawEnv } from "./env";
import { loadOrExit } from "./load";

/** Configuration of the Next.js console's server side. Never sent to the browser. */
export function parseConsoleConfig(env: RawEnv) {
  const e = parseEnv(
    ["LOG_LEVEL", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_PORT", "HEALTH_TIMEOUT_MS", "INFERMESH_URL", "INFERMESH_PORT", "EMBED_WORKER_METRICS_URL", "SPARK_VECTOR_UI_URL"],
    env,
  );
  return {
    logLevel: e.LOG_LEVEL,
    kafkaBrokers: e.KAFKA_BOOTSTRAP_SERVERS ?? [`127.0.0.1:${e.KAFKA_PORT}`],
    healthTimeoutMs: e.HEALTH_TIMEOUT_MS,
    infermeshUrl: e.INFERMESH_URL ?? `http://127.0.0.1:${e.INFERMESH_PORT}`,
  };
}

export type ConsoleConfig = ReturnType<typeof parseConsoleConfig>;

let cached: ConsoleConfig | undefined;

/** Parsed once per server process (first call, from instrumentation.ts at boot). */
export function consoleConfig(): ConsoleConfig {
  cached ??= loadOrExit(parseConsoleConfig);
  return cached;
}
