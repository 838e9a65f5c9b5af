import path from "node:path";

/**
 * Where local state goes when its variable is unset: under DATA_DIR, so that a
 * stack started with another DATA_DIR (tests, a second checkout) keeps all of its
 * files apart. One function per location, shared by every process that uses it.
 *
 * The turbopackIgnore comments tell the console's bundler these are run-time
 * paths, not files to trace into the build.
 */
const under = (dataDir: string, override: string | undefined, ...segments: string[]) =>
  override !== undefined ? path.resolve(/* turbopackIgnore: true */ override) : path.resolve(/* turbopackIgnore: true */ dataDir, ...segments);

export const embedParquetDir = (dataDir: string, override: string | undefined) => under(dataDir, override, "vectorized", "embeddings_imesh");

export const reddbDataDir = (dataDir: string, override: string | undefined) => under(dataDir, override, "reddb");

export const indexDir = (dataDir: string, override: string | undefined) => under(dataDir, override, "index");
