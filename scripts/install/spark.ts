import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { inheritedEnv } from "../../lib/config/load";
import type { Logger } from "../../lib/log";
import { StackError } from "../stack-error";

/**
 * The Spark job's Python environment: a virtualenv in spark/.venv with the
 * pinned packages of spark/requirements.txt (pyspark from PyPI, through pip and
 * its cache), and Spark's Kafka connector resolved once from its Maven
 * coordinates into Spark's own cache (~/.ivy2.5.2). Idempotent: when both are
 * in place this costs two stat calls.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
// Two levels under the repository, from scripts/install/ and from the built spark process (.build/workers/).
export const sparkDir = path.resolve(here, "../../spark");
const venvDir = path.join(sparkDir, ".venv");
const requirementsPath = path.join(sparkDir, "requirements.txt");
const resolverScript = path.join(sparkDir, "resolve_connector.py");
/** Another installer (a launcher and a test run at once) holds the venv; a lock older than this is stale. */
const LOCK_STALE_MS = 15 * 60_000;
const PYTHON_HINT = "install Python 3.10+ with its venv module (Debian: apt-get install python3 python3-venv)";

export interface SparkEnvironment {
  /** The virtualenv's interpreter: runs spark/job.py and pytest. */
  python: string;
  /** pyspark's version, also the version of the Kafka connector. */
  sparkVersion: string;
}

export async function ensureSparkInstalled(log: Logger): Promise<SparkEnvironment> {
  const requirements = await fs.readFile(requirementsPath, "utf8");
  const sparkVersion = /^pyspark(?:\[[^\]]*\])?==(\S+)/m.exec(requirements)?.[1];
  if (!sparkVersion) throw new StackError(`spark/requirements.txt must pin pyspark (pyspark[sql]==X.Y.Z)`);
  const key = createHash("sha256").update(requirements).digest("hex").slice(0, 16);
  const python = path.join(venvDir, "bin", "python");
  const packagesStamp = path.join(venvDir, `.embedline-packages-${key}`);
  const connectorStamp = path.join(venvDir, `.embedline-connector-${sparkVersion}`);
  if (existsSync(packagesStamp) && existsSync(connectorStamp)) return { python, sparkVersion };

  await withLock(`${venvDir}.lock`, log, async () => {
    if (!existsSync(packagesStamp)) {
      await assertJava17();
      if (!existsSync(python)) {
        log.info({ dir: venvDir }, "creating the Spark job's virtualenv");
        await run(await systemPython(), ["-m", "venv", venvDir], "python3 -m venv");
      }
      log.info({ requirements: requirementsPath }, "installing pyspark and the job's Python packages (pip; cached after the first time)");
      await run(python, ["-m", "pip", "install", "--disable-pip-version-check", "--quiet", "-r", requirementsPath], "pip install");
      await fs.writeFile(packagesStamp, `${new Date().toISOString()}\n`);
    }
    if (!existsSync(connectorStamp)) {
      log.info({ sparkVersion }, "resolving Spark's Kafka connector from Maven (once)");
      await run(python, [resolverScript], "resolving the Kafka connector");
      await fs.writeFile(connectorStamp, `${new Date().toISOString()}\n`);
    }
  });
  return { python, sparkVersion };
}

async function systemPython(): Promise<string> {
  for (const candidate of ["python3", "python"]) {
    const out = await run(candidate, ["-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"], "python --version").catch(() => undefined);
    const [major = 0, minor = 0] = (out ?? "").trim().split(".").map(Number);
    if (major === 3 && minor >= 10) return candidate;
  }
  throw new StackError(`Python 3.10+ with venv not found on PATH, needed for the Spark job: ${PYTHON_HINT}`);
}

async function assertJava17(): Promise<void> {
  const out = await run("java", ["-version"], "java -version").catch(() => {
    throw new StackError("Java 17+ not found on PATH, needed for Spark 4: install it (Debian: apt-get install openjdk-17-jre-headless)");
  });
  const m = /version "(\d+)(?:\.(\d+))?/.exec(out);
  const major = m ? (m[1] === "1" ? Number(m[2]) : Number(m[1])) : 0;
  if (major < 17) throw new StackError(`Java ${major || "?"} found on PATH but Spark 4 needs Java 17+`);
}

/** Run to completion; resolves to stdout+stderr, rejects with the output's tail as the hint. */
function run(cmd: string, args: string[], what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: inheritedEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) resolve(output);
      else reject(new StackError(`${what} failed (exit ${code})`, output.split("\n").slice(-30).join("\n")));
    });
  });
}

/** A lock directory: mkdir is atomic, so of two installers one waits for the other. */
async function withLock<T>(lockDir: string, log: Logger, fn: () => Promise<T>): Promise<T> {
  let announced = false;
  for (;;) {
    try {
      await fs.mkdir(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const age = Date.now() - (await fs.stat(lockDir).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > LOCK_STALE_MS) {
        await fs.rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!announced) log.info({ lockDir }, "another process is installing the Spark environment; waiting");
      announced = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockDir, { recursive: true, force: true });
  }
}
