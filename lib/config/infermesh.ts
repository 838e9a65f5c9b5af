import { findLocalModel, localModelNames } from "../embedding/registry";
import { ConfigError, parseEnv, type RawEnv } from "./env";
import { parseProcessBasics } from "./shared";

/** Configuration of the bundled embedding service (workers/infermesh). */
export function parseInfermeshConfig(env: RawEnv) {
  const e = parseEnv(
    [
      "MODEL_CACHE_DIR",
      "INFERMESH_HOST",
      "INFERMESH_PORT",
      "INFERMESH_MODEL",
      "INFERMESH_API_KEY",
      "INFERMESH_SESSIONS",
      "INFERMESH_INTRA_OP_THREADS",
      "INFERMESH_MAX_BATCH",
      "INFERMESH_MAX_BATCH_TOKENS",
      "INFERMESH_MAX_WAIT_MS",
      "INFERMESH_QUEUE_MAX",
      "INFERMESH_MAX_INPUTS",
      "INFERMESH_MAX_BODY_BYTES",
    ],
    env,
  );
  const spec = findLocalModel(e.INFERMESH_MODEL);
  if (!spec) {
    const expected = `a bundled model: ${localModelNames()} (short name or full id)`;
    throw new ConfigError("INFERMESH_MODEL", expected, `invalid configuration: INFERMESH_MODEL=${JSON.stringify(e.INFERMESH_MODEL)}: expected ${expected}`);
  }
  if (e.INFERMESH_MAX_BATCH_TOKENS < spec.maxInputLength) {
    // One input at the model's limit must fit in a call on its own.
    const expected = `an integer ≥ ${spec.maxInputLength} (the longest input ${spec.shortName} takes, in tokens)`;
    throw new ConfigError("INFERMESH_MAX_BATCH_TOKENS", expected, `invalid configuration: INFERMESH_MAX_BATCH_TOKENS=${e.INFERMESH_MAX_BATCH_TOKENS}: expected ${expected}`);
  }
  if (e.INFERMESH_QUEUE_MAX < e.INFERMESH_MAX_INPUTS) {
    // A request the queue could never hold would be refused forever with 429.
    const expected = `an integer ≥ INFERMESH_MAX_INPUTS (${e.INFERMESH_MAX_INPUTS})`;
    throw new ConfigError("INFERMESH_QUEUE_MAX", expected, `invalid configuration: INFERMESH_QUEUE_MAX=${e.INFERMESH_QUEUE_MAX}: expected ${expected}`);
  }
  return {
    ...parseProcessBasics(env),
    /** MODEL_CACHE_DIR as given (modelCacheDir() resolves the default). */
    modelCacheDir: e.MODEL_CACHE_DIR,
    host: e.INFERMESH_HOST,
    port: e.INFERMESH_PORT,
    model: e.INFERMESH_MODEL,
    /** The registry entry of INFERMESH_MODEL. */
    spec,
    /** Secret: compared, never logged. */
    apiKey: e.INFERMESH_API_KEY,
    sessions: e.INFERMESH_SESSIONS,
    intraOpThreads: e.INFERMESH_INTRA_OP_THREADS,
    maxBatch: e.INFERMESH_MAX_BATCH,
    maxBatchTokens: e.INFERMESH_MAX_BATCH_TOKENS,
    maxWaitMs: e.INFERMESH_MAX_WAIT_MS,
    queueMax: e.INFERMESH_QUEUE_MAX,
    maxInputs: e.INFERMESH_MAX_INPUTS,
    maxBodyBytes: e.INFERMESH_MAX_BODY_BYTES,
  };
}

export type InfermeshConfig = ReturnType<typeof parseInfermeshConfig>;
