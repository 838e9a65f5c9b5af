// `npm test`: install what the tests need, then run every suite and print one
// summary. `npm test -- unit e2e` runs only the named stages.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { inheritedEnv } from "../lib/config/load";
import { parseStackConfig } from "../lib/config/stack";
import { localModels } from "../lib/embedding/registry";
import { createLogger } from "../lib/log";
import { ensureDebianPackages } from "./install/debian-packages";
import { ensureModelsInstalled } from "./install/models";
import { ensureSparkInstalled } from "./install/spark";
import { ensureKafkaInstalled } from "./kafka/broker";
import { ensureConsoleBuilt } from "./launcher/console-build";
import { repoRoot } from "./launcher";
import { freePort } from "./launcher/ports";
import { ensureWorkersBuilt, stackWorkerBuild } from "./launcher/worker-build";
import { StackError } from "./stack-error";

interface Outcome {
  stage: string;
  passed: number;
  failed: number;
  skipped: number;
  seconds: number;
}

const reports = path.join(repoRoot, "data", "test-reports");
const env = inheritedEnv();
const log = createLogger("test", "info");
const bin = (name: string) => path.join(repoRoot, "node_modules", ".bin", name);
const say = (line: string) => process.stdout.write(`\n=== ${line}\n`);

function run(cmd: string, args: string[], extraEnv: Record<string, string> = {}): number {
  const result = spawnSync(cmd, args, { cwd: repoRoot, stdio: "inherit", env: { ...env, ...extraEnv } });
  return result.status ?? 1;
}

/** A command that passes or fails as a whole (typecheck, lint). */
function check(stage: string, cmd: string, args: string[]): Omit<Outcome, "seconds"> {
  const ok = run(cmd, args) === 0;
  return { stage, passed: ok ? 1 : 0, failed: ok ? 0 : 1, skipped: 0 };
}

function vitest(project: "unit" | "integration" | "cluster"): Omit<Outcome, "seconds"> {
  const out = path.join(reports, `${project}.json`);
  rmSync(out, { force: true });
  const code = run(bin("vitest"), ["run", "--project", project, "--reporter=default", "--reporter=json", `--outputFile.json=${out}`]);
  if (!existsSync(out)) return { stage: project, passed: 0, failed: 1, skipped: 0 };
  const r = JSON.parse(readFileSync(out, "utf8")) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number };
  // A suite that failed to load counts no test but still fails the run.
  const failed = r.numFailedTests + (code !== 0 && r.numFailedTests === 0 ? 1 : 0);
  return { stage: project, passed: r.numPassedTests, failed, skipped: r.numPendingTests + r.numTodoTests };
}

async function e2e(): Promise<Omit<Outcome, "seconds">> {
  const out = path.join(reports, "e2e.json");
  rmSync(out, { force: true });
  // Ports of their own, so a stack started by hand on the defaults does not clash.
  const consolePort = await freePort();
  const dataDir = path.join(repoRoot, "data", "test", `e2e-${Date.now()}`);
  const stageEnv: Record<string, string> = {
    CONSOLE_PORT: String(consolePort),
    CONSOLE_URL: `http://127.0.0.1:${consolePort}`,
    KAFKA_PORT: String(await freePort()),
    KAFKA_CONTROLLER_PORT: String(await freePort()),
    INFERMESH_PORT: String(await freePort()),
    INDEXER_PORT: String(await freePort()),
    PARSE_METRICS_PORT: String(await freePort()),
    EMBED_METRICS_PORT: String(await freePort()),
    DATA_DIR: dataDir,
    PLAYWRIGHT_JSON_OUTPUT_NAME: out,
    // The stack's modules are loaded by Playwright's own Node; see bootstrap.mjs.
    NODE_OPTIONS: `${env.NODE_OPTIONS ?? ""} --conditions=react-server`.trim(),
  };
  const code = run(bin("playwright"), ["test", "--reporter=list,json"], stageEnv);
  // Kept on failure: stack.log in it says what the stack printed.
  if (code === 0) rmSync(dataDir, { recursive: true, force: true });
  else process.stdout.write(`e2e: the stack's output is in ${dataDir}/stack.log\n`);
  if (!existsSync(out)) return { stage: "e2e", passed: 0, failed: 1, skipped: 0 };
  const s = (JSON.parse(readFileSync(out, "utf8")) as { stats: { expected: number; unexpected: number; flaky: number; skipped: number } }).stats;
  const failed = s.unexpected + s.flaky + (code !== 0 && s.unexpected === 0 ? 1 : 0);
  return { stage: "e2e", passed: s.expected, failed, skipped: s.skipped };
}

/** pytest over the parse rules in the Spark job's virtualenv; counts from its JUnit XML. */
function pytest(): Omit<Outcome, "seconds"> {
  const out = path.join(reports, "pytest.xml");
  rmSync(out, { force: true });
  const code = run(process.execPath, ["--import", "tsx", path.join(repoRoot, "spark", "pytest.ts"), `--junitxml=${out}`]);
  if (!existsSync(out)) return { stage: "pytest", passed: 0, failed: 1, skipped: 0 };
  const suite = readFileSync(out, "utf8").match(/<testsuite\b[^>]*>/)?.[0] ?? "";
  const count = (attr: string) => Number(suite.match(new RegExp(`\\b${attr}="(\\d+)"`))?.[1] ?? 0);
  const failed = count("failures") + count("errors");
  const skipped = count("skipped");
  return { stage: "pytest", passed: count("tests") - failed - skipped, failed: failed + (code !== 0 && failed === 0 ? 1 : 0), skipped };
}

const stages: Record<string, () => Promise<Omit<Outcome, "seconds">> | Omit<Outcome, "seconds">> = {
  typecheck: () => check("typecheck", bin("tsc"), ["--noEmit", "-p", "."]),
  lint: () => check("lint", bin("eslint"), [".", "--max-warnings=0"]),
  unit: () => vitest("unit"),
  pytest,
  integration: () => vitest("integration"),
  // Three KRaft nodes of its own, the pipeline, kill -9 of a node, an indexer and a model server.
  cluster: () => vitest("cluster"),
  e2e,
};

async function prepare(selected: string[]) {
  const needs = (...names: string[]) => names.some((n) => selected.includes(n));
  // The stages that start workers run them built, as `npm start` does: first, so a compile error shows at once.
  if (needs("integration", "cluster", "e2e")) ensureWorkersBuilt(stackWorkerBuild(repoRoot), log);
  if (needs("unit", "e2e")) {
    ensureDebianPackages(
      [
        { name: "chromium", binary: "/usr/bin/chromium", neededFor: "the browser tests" },
        { name: "docker-compose", binary: "docker-compose", neededFor: "checking docker-compose.yml offline" },
        // promtool checks deploy/prometheus.yml and every worker's Prometheus text. On a machine run by systemd,
        // apt also starts the package's own Prometheus (port 9090); the tests do not use it (`systemctl disable --now prometheus`).
        { name: "prometheus", binary: "promtool", neededFor: "checking deploy/prometheus.yml and the Prometheus text offline (promtool)" },
      ],
      say,
    );
  }
  if (needs("pytest", "integration")) await ensureSparkInstalled(log);
  if (needs("unit", "integration", "cluster", "e2e")) {
    // Both bundled models: the tokenizer tests read their tokenizer.json, the
    // numerics tests run each model, e2e's stack runs INFERMESH_MODEL.
    await ensureModelsInstalled(log, { models: localModels(), cacheDir: parseStackConfig(env).modelCacheDir });
  }
  // The cluster stage runs brokers of its own whatever KAFKA_BOOTSTRAP_SERVERS says.
  if (needs("cluster")) await ensureKafkaInstalled(log);
  if (needs("integration", "e2e")) {
    const cfg = parseStackConfig(env);
    if (!cfg.kafka.external) await ensureKafkaInstalled(log);
    ensureConsoleBuilt(repoRoot, { ...env, NEXT_TELEMETRY_DISABLED: "1" }, log);
  }
}

async function main(): Promise<number> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !(a in stages));
  if (unknown.length) {
    process.stderr.write(`embedline: unknown test stage ${unknown.join(", ")} (stages: ${Object.keys(stages).join(", ")})\n`);
    return 2;
  }
  const selected = asked.length ? asked : Object.keys(stages);
  mkdirSync(reports, { recursive: true });
  try {
    say("installing what the tests need");
    await prepare(selected);
  } catch (err) {
    if (!(err instanceof StackError)) throw err;
    process.stderr.write(`embedline: ${err.message}\n`);
    return 1;
  }

  const outcomes: Outcome[] = [];
  for (const stage of selected) {
    say(stage);
    const started = Date.now();
    const outcome = await stages[stage]!();
    outcomes.push({ ...outcome, seconds: Math.round((Date.now() - started) / 1000) });
  }

  say("summary");
  for (const o of outcomes) {
    process.stdout.write(`${o.stage.padEnd(12)} ${o.failed ? "FAIL" : "ok  "}  ${o.passed} passed, ${o.failed} failed, ${o.skipped} skipped  (${o.seconds} s)\n`);
  }
  const total = outcomes.reduce((t, o) => ({ passed: t.passed + o.passed, failed: t.failed + o.failed, skipped: t.skipped + o.skipped }), { passed: 0, failed: 0, skipped: 0 });
  process.stdout.write(`\ntotal: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
  return total.failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`embedline: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
