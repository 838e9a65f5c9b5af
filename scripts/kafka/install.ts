import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "../../lib/log";
import { assertMaven, run, tail } from "../install/run";
import { StackError } from "../stack-error";

/**
 * Installing the Kafka broker: Java 17+ on PATH, and the broker's jars resolved
 * by Maven from scripts/kafka/pom.xml into the local Maven repository.
 */

// Two levels under the repository, from scripts/kafka/ and from the built launcher
// (.build/launcher/); pom.xml is found from the repository, not beside this module.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const pomPath = path.join(repoRoot, "scripts", "kafka", "pom.xml");

export const JAVA_HINT = "install it (Debian: apt-get install openjdk-17-jre-headless)";


/**
 * Make sure Java 17+ runs and the broker's jars are in the local Maven repository;
 * resolve to the broker's classpath. Maven runs only when scripts/kafka/pom.xml
 * changed since the cached classpath was written, or a jar it names is gone.
 */
export async function ensureKafkaInstalled(log: Logger, opts: { cacheDir?: string } = {}): Promise<string> {
  await assertJava17();
  const cacheDir = opts.cacheDir ?? path.join(repoRoot, "data", "kafka");
  const pom = await fs.readFile(pomPath);
  const key = createHash("sha256").update(pom).digest("hex").slice(0, 16);
  const cacheFile = path.join(cacheDir, `classpath-${key}.txt`);

  const cached = await readClasspath(cacheFile);
  if (cached) {
    log.debug({ cacheFile }, "Kafka classpath from cache");
    return cached;
  }

  await assertMaven("the Kafka jars");
  await fs.mkdir(cacheDir, { recursive: true });
  // Written beside the cache file and renamed into place, so a launcher and a test
  // run resolving at the same time never read half a file.
  const tmpFile = `${cacheFile}.${process.pid}.tmp`;
  const started = Date.now();
  log.info({ pom: path.relative(repoRoot, pomPath) }, "resolving the Kafka broker's jars with Maven (first start, or the pom changed)");
  const mvn = await run("mvn", [
    "-q",
    "-B",
    "-Dstyle.color=never",
    "-f",
    pomPath,
    "dependency:build-classpath",
    `-Dmdep.outputFile=${tmpFile}`,
    "-Dmdep.includeScope=runtime",
  ]);
  if (mvn.code !== 0) {
    await fs.rm(tmpFile, { force: true });
    throw new StackError(
      `Maven could not resolve the Kafka jars (exit ${mvn.code}): check network access to the Maven repository, then retry (\`mvn -B -f scripts/kafka/pom.xml dependency:build-classpath\` shows the details)`,
      tail(mvn.output, 20),
    );
  }
  await fs.rename(tmpFile, cacheFile);
  // Classpaths of earlier poms are dead weight now.
  for (const name of await fs.readdir(cacheDir)) {
    if (/^classpath-[0-9a-f]{16}\.txt$/.test(name) && path.join(cacheDir, name) !== cacheFile) await fs.rm(path.join(cacheDir, name), { force: true });
  }
  const classpath = await readClasspath(cacheFile);
  if (!classpath) throw new StackError(`Maven wrote an unusable classpath to ${cacheFile}: delete it and retry`);
  log.info({ durationMs: Date.now() - started, jars: classpath.split(path.delimiter).length }, "Kafka jars resolved");
  return classpath;
}

/** The cached classpath if the file exists and every jar it names is still there. */
async function readClasspath(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = (await fs.readFile(file, "utf8")).trim();
  } catch {
    return undefined;
  }
  const jars = text.split(path.delimiter).filter(Boolean);
  if (jars.length === 0 || !jars.some((j) => path.basename(j).startsWith("kafka_2.13-"))) return undefined;
  return jars.every((j) => existsSync(j)) ? jars.join(path.delimiter) : undefined;
}

async function assertJava17(): Promise<void> {
  const res = await run("java", ["-version"]).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") throw new StackError(`Java 17+ not found on PATH: ${JAVA_HINT}`);
    throw err;
  });
  // `openjdk version "17.0.15" 2025-04-15`, `java version "1.8.0_392"`
  const m = /version "(\d+)(?:\.(\d+))?/.exec(res.output.join("\n"));
  if (!m) throw new StackError(`could not read the Java version from \`java -version\`: ${JAVA_HINT}`, tail(res.output, 5));
  const major = m[1] === "1" ? Number(m[2]) : Number(m[1]);
  if (major < 17) throw new StackError(`Java ${major} found on PATH but Kafka 4 needs Java 17+: ${JAVA_HINT}`);
}

