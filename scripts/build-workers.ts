// Build the stack's workers into .build/workers when their sources changed.
// `npm start` and `npm test` do this themselves; the image runs it at build time:
//   node --import tsx scripts/build-workers.ts
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger } from "../lib/log";
import { ensureWorkersBuilt, stackWorkerBuild } from "./launcher/worker-build";
import { StackError } from "./stack-error";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

try {
  if (!ensureWorkersBuilt(stackWorkerBuild(repoRoot), createLogger("build", "info"))) process.stdout.write("workers: up to date\n");
} catch (err) {
  process.stderr.write(`embedline: ${err instanceof StackError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
