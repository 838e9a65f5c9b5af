import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { supervisorStateSchema, type SupervisorState } from "../../lib/health/supervisor-state";
import { repoRoot } from "../../scripts/launcher";
import { freePort } from "./free-port";
import { pgrep, startCommand, type RunningCommand } from "./processes";

export interface NpmStack {
  run: RunningCommand;
  dataDir: string;
  ports: { console: number; kafka: number; controller: number; infermesh: number; indexer: number; embedWorker: number; parse: number; reddb: number };
  /** Where the launcher publishes its supervisor state (DATA_DIR/launcher/state.json). */
  stateFile: string;
  /** The launcher's published state; throws while there is none. */
  state(): SupervisorState;
  /** SIGKILL whatever is left of it and delete its data dir. */
  destroy(): Promise<void>;
}

/**
 * `npm start` exactly as an operator runs it (bootstrap → launcher → processes),
 * in its own process group, on free ports and a throwaway data directory under
 * data/test/. Shared by the launcher test, the chaos test and `npm run chaos`.
 */
/** `flags`: launcher options such as --reddb. */
export async function npmStart(extraEnv: Record<string, string> = {}, prefix = "launcher", flags: string[] = []): Promise<NpmStack> {
  mkdirSync(path.join(repoRoot, "data", "test"), { recursive: true });
  const dataDir = mkdtempSync(path.join(repoRoot, "data", "test", `${prefix}-`));
  const ports = {
    console: await freePort(),
    kafka: await freePort(),
    controller: await freePort(),
    infermesh: await freePort(),
    indexer: await freePort(),
    embedWorker: await freePort(),
    parse: await freePort(),
    reddb: await freePort(),
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    CONSOLE_PORT: String(ports.console),
    KAFKA_PORT: String(ports.kafka),
    KAFKA_CONTROLLER_PORT: String(ports.controller),
    INFERMESH_PORT: String(ports.infermesh),
    INDEXER_PORT: String(ports.indexer),
    EMBED_METRICS_PORT: String(ports.embedWorker),
    PARSE_METRICS_PORT: String(ports.parse),
    REDDB_PORT: String(ports.reddb),
    ...extraEnv,
  };
  // Whatever the caller's environment says, this stack runs its own services.
  for (const name of ["KAFKA_BOOTSTRAP_SERVERS", "INFERMESH_URL", "INDEXER_URL", "EMBED_WORKER_METRICS_URL", "PARSE_METRICS_URL", "REDDB_URL", "LAUNCHER_STATE_FILE"]) delete env[name];
  const run = startCommand(process.execPath, ["scripts/bootstrap.mjs", "start", ...flags], { cwd: repoRoot, env });
  const stateFile = path.join(dataDir, "launcher", "state.json");
  return {
    run,
    dataDir,
    ports,
    stateFile,
    state: () => supervisorStateSchema.parse(JSON.parse(readFileSync(stateFile, "utf8"))),
    async destroy() {
      if (run.child.exitCode === null && run.child.signalCode === null) {
        process.kill(-run.child.pid!, "SIGKILL");
        await run.exited;
      }
      for (const line of pgrep(dataDir)) process.kill(Number(line.split(" ")[0]), "SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
