/**
 * pytest over the shared parse vectors and the job's Arrow transforms, in the
 * job's own virtualenv (created on first use). For `npm test`:
 *
 *   node --import tsx spark/pytest.ts [pytest args…]
 *
 * Prints pytest's summary line ("120 passed in 0.6s") and exits with pytest's code.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { inheritedEnv } from "../lib/config/load";
import { createLogger } from "../lib/log";
import { ensureSparkInstalled } from "../scripts/install/spark";
import { StackError } from "../scripts/stack-error";

const here = path.dirname(fileURLToPath(import.meta.url));

try {
  const { python } = await ensureSparkInstalled(createLogger("spark-pytest", "info"));
  const result = spawnSync(python, ["-m", "pytest", "-q", "-p", "no:cacheprovider", path.join(here, "tests"), ...process.argv.slice(2)], {
    cwd: here,
    stdio: "inherit",
    env: inheritedEnv(),
  });
  process.exit(result.status ?? 1);
} catch (err) {
  if (!(err instanceof StackError)) throw err;
  process.stderr.write(`embedline: ${err.message}\n${err.hint ? `${err.hint}\n` : ""}`);
  process.exit(1);
}
