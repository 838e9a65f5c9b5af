/**
 * Starting the stack's processes from tests and benches, by the launcher's
 * name (scripts/launcher/processes.ts): the same built JavaScript and node
 * arguments `npm start` runs. The one place a test or bench says how a
 * process is run.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stackProcesses, workerNodeArgs } from "../../scripts/launcher/processes";
import { ensureWorkersBuilt, stackWorkerBuild } from "../../scripts/launcher/worker-build";
import { startCommand, type RunningCommand } from "./processes";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const workerNames = stackProcesses.flatMap((p) => (p.launch.kind === "worker" ? [p.name] : []));
let checked = false;

/**
 * node's arguments for the stack's worker `name` (`embed-worker`, `emb-indexer`,
 * `infermesh`, `parse-worker`, `reddb`, `spark`), after `nodeArgs`. The first call
 * in a process builds the workers when their sources changed since the last build.
 */
export function workerArgs(name: string, nodeArgs: readonly string[] = []): string[] {
  if (!workerNames.includes(name)) throw new Error(`no worker named ${name} in scripts/launcher/processes.ts (workers: ${workerNames.join(", ")})`);
  if (!checked) {
    ensureWorkersBuilt(stackWorkerBuild(root));
    checked = true;
  }
  return [...nodeArgs, ...workerNodeArgs(root, name)];
}

/** Start the stack's worker `name` as the launcher runs it, in its own process group, its output captured. `env` is its whole environment. */
export function launchWorker(name: string, opts: { env: NodeJS.ProcessEnv; nodeArgs?: readonly string[] }): RunningCommand {
  return startCommand(process.execPath, workerArgs(name, opts.nodeArgs), { cwd: root, env: opts.env });
}

/**
 * node's arguments for a TypeScript program of the tests or benches themselves
 * (a fixture process, a bench runner), not part of the product: run through
 * tsx, under the workers' condition (their modules `import "server-only"`).
 */
export function scriptArgs(file: string, args: readonly string[] = []): string[] {
  return ["--conditions=react-server", "--import", "tsx", path.join(root, file), ...args];
}

/** Start such a program (scriptArgs) in its own process group, its output captured. */
export function launchScript(file: string, opts: { env: NodeJS.ProcessEnv; args?: readonly string[] }): RunningCommand {
  return startCommand(process.execPath, scriptArgs(file, opts.args), { cwd: root, env: opts.env });
}
