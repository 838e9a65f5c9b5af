import { ConfigError, parseEnv, type RawEnv } from "./env";

/** Configuration of the bundled embedding service (workers/infermesh). */
export function parseInfermeshConfig(env: RawEnv) {
  const e = parseEnv(
    [
      "LOG_LEVEL",
      "SHUTDOWN_TIMEOUT_SEC",
      "INFERMESH_HOST",
      "INFERMESH_PORT",
      "INFERMESH_MODEL",
      "INFERMESH_API_KEY",
      "INFERMESH_THREADS",
      "INFERMESH_MAX_BATCH",
      "INFERMESH_MAX_WAIT_MS",
      "INFERMESH_QUEUE_MAX",
      "INFERMESH_MAX_INPUTS",
      "INFERMESH_MAX_BATCH_CHARS",
      "INFERMESH_MAX_BODY_BYTES",
    ],
    env,
  );
  if (e.INFERMESH_QUEUE_MAX < e.INFERMESH_MAX_INPUTS) {
    // A request the queue could never hold would be refused forever with 429.
    const expected = `an integer ≥ INFERMESH_MAX_INPUTS (${e.INFERMESH_MAX_INPUTS})`;
    throw new ConfigError("INFERMESH_QUEUE_MAX", expected, `invalid configuration: INFERMESH_QUEUE_MAX=${e.INFERMESH_QUEUE_MAX}: expected ${expected}`);
  }
  return {
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_SEC * 1000,
    host: e.INFERMESH_HOST,
    port: e.INFERMESH_PORT,
    model: e.INFERMESH_MODEL,
    /** Secret: compared, never logged. */
    apiKey: e.INFERMESH_API_KEY,
    threads: e.INFERMESH_THREADS,
    maxBatch: e.INFERMESH_MAX_BATCH,
    maxWaitMs: e.INFERMESH_MAX_WAIT_MS,
    queueMax: e.INFERMESH_QUEUE_MAX,
    maxInputs: e.INFERMESH_MAX_INPUTS,
    maxBatchChars: e.INFERMESH_MAX_BATCH_CHARS,
    maxBodyBytes: e.INFERMESH_MAX_BODY_BYTES,
  };
}

export type InfermeshConfig = ReturnType<typeof parseInfermeshConfig>;
