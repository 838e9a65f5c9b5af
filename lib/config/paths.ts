import path from "node:path";

/**
 * Where local state goes when its variable is unset: under DATA_DIR, so that a
 * stack started with another DATA_DIR (tests, a second checkout) keeps all of its
 * files apart. One function per location, shared by every process that uses it.
 */
export const embedParquetDir = (dataDir: string, override: string | undefined) =>
  path.resolve(override ?? path.join(dataDir, "vectorized", "embeddings_imesh"));

export const reddbDataDir = (dataDir: string, override: string | undefined) => path.resolve(override ?? path.join(dataDir, "reddb"));

export const indexDir = (dataDir: string, override: string | undefined) => path.resolve(override ?? path.join(dataDir, "index"));
