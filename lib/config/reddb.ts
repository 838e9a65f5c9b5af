import { parseEnv, type RawEnv } from "./env";
import { reddbDataDir } from "./paths";
import { parseProcessBasics } from "./shared";

/** Configuration of the bundled RedDB-compatible store (workers/reddb). */
export function parseReddbServerConfig(env: RawEnv) {
  const e = parseEnv(["DATA_DIR", "REDDB_HOST", "REDDB_PORT", "REDDB_DATA_DIR", "REDDB_TOKEN"], env);
  return {
    ...parseProcessBasics(env),
    host: e.REDDB_HOST,
    port: e.REDDB_PORT,
    dataDir: reddbDataDir(e.DATA_DIR, e.REDDB_DATA_DIR),
    /** Secret: when set, every /api request must carry it as a bearer token. */
    token: e.REDDB_TOKEN,
  };
}

export type ReddbServerConfig = ReturnType<typeof parseReddbServerConfig>;
