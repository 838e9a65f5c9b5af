import { parseEnv, type RawEnv } from "./env";
import { reddbDataDir } from "./paths";

/** Configuration of the bundled RedDB-compatible store (workers/reddb). */
export function parseReddbServerConfig(env: RawEnv) {
  const e = parseEnv(["DATA_DIR", "LOG_LEVEL", "SHUTDOWN_TIMEOUT_SEC", "REDDB_HOST", "REDDB_PORT", "REDDB_DATA_DIR", "REDDB_TOKEN"], env);
  return {
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_SEC * 1000,
    host: e.REDDB_HOST,
    port: e.REDDB_PORT,
    dataDir: reddbDataDir(e.DATA_DIR, e.REDDB_DATA_DIR),
    /** Secret: when set, every /api request must carry it as a bearer token. */
    token: e.REDDB_TOKEN,
  };
}

export type ReddbServerConfig = ReturnType<typeof parseReddbServerConfig>;
