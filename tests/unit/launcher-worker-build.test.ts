import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { build, launcherBuild, staleness } from "../../scripts/launcher/esbuild-build.mjs";
import { stackProcesses } from "../../scripts/launcher/processes";
import { ensureWorkersBuilt, stackWorkerBuild, workerThreads, type WorkerBuild } from "../../scripts/launcher/worker-build";
import { StackError } from "../../scripts/stack-error";
import { descendants } from "../harness/processes";

const root = path.resolve(__dirname, "../..");
const dirs: string[] = [];
const tmp = (what: string) => {
  const dir = mkdtempSync(path.join(tmpdir(), `worker-build-${what}-`));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `new URL("./<name>.mjs", import.meta.url)` thread entries the product's sources start, by name. */
function threadUrlsInSources(): string[] {
  const names = new Set<string>();
  for (const top of ["lib", "workers", "spark"]) {
    for (const file of readdirSync(path.join(root, top), { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts")) continue;
      const source = readFileSync(path.join(root, top, file), "utf8");
      for (const [, name] of source.matchAll(/new URL\("\.\/([\w-]+)\.mjs", import\.meta\.url\)/g)) names.add(name!);
    }
  }
  return [...names].sort();
}

/** A tree of its own: entry.ts imports dep.ts; built into out/. */
function fixture(): WorkerBuild {
  const dir = tmp("fixture");
  writeFileSync(path.join(dir, "dep.ts"), "export const answer = (n: number): number => n * 2;\n");
  writeFileSync(
    path.join(dir, "entry.ts"),
    ['import { answer } from "./dep";', "const n: number = Number(process.argv[2] ?? 1);", 'if (n < 0) throw new Error("negative input");', "console.log(answer(n));", ""].join("\n"),
  );
  return { root: dir, outDir: path.join(dir, "out"), bundles: { entry: "entry.ts" } };
}

const plainNode = (args: string[]) => spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });

const runBuilt = (b: WorkerBuild, ...args: string[]) =>
  spawnSync(process.execPath, ["--enable-source-maps", path.join(b.outDir, "entry.mjs"), ...args], { cwd: b.root, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });

describe("the worker build", () => {
  it("bundles every worker process of the launcher's table and every thread the sources start, with no tsx in the output", () => {
    const b = { ...stackWorkerBuild(root), outDir: tmp("stack") };
    expect(ensureWorkersBuilt(b)).toBe(true);
    const workers = stackProcesses.filter((p) => p.launch.kind === "worker").map((p) => p.name);
    expect(workers).toEqual(expect.arrayContaining(["infermesh", "parse-worker", "embed-worker", "emb-indexer", "reddb", "spark"]));
    // A thread started from the sources but missing here would fail only in a built worker, at its first use.
    expect(threadUrlsInSources()).toEqual(Object.keys(workerThreads).sort());
    for (const name of [...workers, ...Object.keys(workerThreads)]) {
      const out = readFileSync(path.join(b.outDir, `${name}.mjs`), "utf8");
      expect(out, name).not.toMatch(/from "tsx|import\("tsx|from "esbuild/);
      expect(existsSync(path.join(b.outDir, `${name}.mjs.map`)), name).toBe(true);
    }
    // Found current: nothing to do.
    expect(ensureWorkersBuilt(b)).toBe(false);
    // No esbuild left beside the stack: neither a service nor an unreaped zombie of one.
    const comm = (pid: number) => (existsSync(`/proc/${pid}/comm`) ? readFileSync(`/proc/${pid}/comm`, "utf8").trim() : "");
    expect(descendants(process.pid).map(comm).filter((c) => c.includes("esbuild"))).toEqual([]);
  });

  it("runs with plain node, rebuilds only when a source it read changed, and its stack traces name the TypeScript lines", () => {
    const b = fixture();
    expect(ensureWorkersBuilt(b)).toBe(true);
    expect(runBuilt(b, "21").stdout.trim()).toBe("42");
    expect(ensureWorkersBuilt(b)).toBe(false);

    writeFileSync(path.join(b.root, "dep.ts"), "export const answer = (n: number): number => n * 3;\n");
    expect(ensureWorkersBuilt(b)).toBe(true);
    expect(runBuilt(b, "21").stdout.trim()).toBe("63");

    // A bundle gone from the output is built again.
    rmSync(path.join(b.outDir, "entry.mjs"));
    expect(ensureWorkersBuilt(b)).toBe(true);

    const crashed = runBuilt(b, "-1");
    expect(crashed.status).not.toBe(0);
    expect(crashed.stderr).toContain("negative input");
    expect(crashed.stderr).toMatch(/entry\.ts:3:\d+/);
  });

  it("refuses a source that does not compile, naming the file and line, and keeps the last good output", () => {
    const b = fixture();
    ensureWorkersBuilt(b);
    writeFileSync(path.join(b.root, "dep.ts"), "export const answer = (n: number): number => n *;\n");
    let error: unknown;
    try {
      ensureWorkersBuilt(b);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StackError);
    expect((error as Error).message).toMatch(/the worker build failed:[\s\S]*dep\.ts:1:/);
    expect(runBuilt(b, "2").stdout.trim()).toBe("4");
  });

  it("builds the launcher the same way, into plain JavaScript that finds the repository's files from two levels under it", () => {
    // Beside .build/launcher, as deep: where bootstrap.mjs puts it. The Kafka modules as entries of their own, to read what they resolve.
    const outDir = mkdtempSync(path.join(root, ".build", "test-launcher-"));
    dirs.push(outDir);
    const launcher = launcherBuild(root);
    const b = { ...launcher, outDir, bundles: { ...launcher.bundles, "server-properties": "scripts/kafka/server-properties.ts", "kafka-install": "scripts/kafka/install.ts" } };
    expect(staleness(b)).toBe("no build yet");
    build(b);
    expect(staleness(b)).toBeNull();
    expect(readFileSync(path.join(outDir, "start.mjs"), "utf8")).not.toMatch(/from "tsx|import\("tsx|from "esbuild/);

    // Plain node runs it: a flag it does not know is refused by the launcher's own parser.
    const refused = plainNode(["--conditions=react-server", path.join(outDir, "start.mjs"), "--no-such-flag"]);
    expect([refused.status, refused.stderr]).toEqual([2, expect.stringMatching(/^embedline: .*--no-such-flag/)]);

    const url = (name: string) => JSON.stringify(pathToFileURL(path.join(outDir, `${name}.mjs`)).href);
    const read = plainNode([
      "--conditions=react-server",
      "--input-type=module",
      "-e",
      `const [p, i] = await Promise.all([import(${url("server-properties")}), import(${url("kafka-install")})]); console.log(JSON.stringify([p.log4jConfigPath, i.pomPath]));`,
    ]);
    expect(read.stderr).toBe("");
    expect(JSON.parse(read.stdout)).toEqual([path.join(root, "scripts", "kafka", "log4j2.xml"), path.join(root, "scripts", "kafka", "pom.xml")]);
  });
});
