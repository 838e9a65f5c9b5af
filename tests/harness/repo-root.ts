import path from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout's root, for tests and benches that run its scripts or read its files. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
