import { spawn } from "node:child_process";
import { StackError } from "../stack-error";

/** Helpers the installers share (Kafka's jars, the models' jars): running a command, Maven's presence. */

export const MAVEN_HINT = "install it (Debian: apt-get install maven)";

export interface RunResult {
  code: number | null;
  output: string[];
}

/**
 * Run a command to completion, collecting stdout+stderr lines (a `\r` ends a
 * line too: Maven redraws its download progress with it). `onLine` sees each
 * line as it comes. Rejects only if the command cannot start.
 */
export function run(cmd: string, args: string[], opts: { cwd?: string; onLine?: (line: string) => void } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
    const output: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      let partial = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        const lines = (partial + chunk).split(/\r\n|\r|\n/);
        partial = lines.pop() ?? "";
        for (const line of lines) add(line);
      });
      stream.on("end", () => add(partial));
    }
    function add(raw: string) {
      // Maven writes colour resets even with -Dstyle.color=never.
      const line = raw.replace(/\x1b\[[0-9;]*m/g, "");
      if (line.trim() === "") return;
      output.push(line);
      opts.onLine?.(line);
    }
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

export function tail(lines: string[], n: number): string {
  return lines.slice(-n).join("\n");
}

/** One line naming what Maven is needed for when `mvn` is not on PATH. */
export async function assertMaven(neededFor: string): Promise<void> {
  await run("mvn", ["-v"]).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") throw new StackError(`Maven (mvn) not found on PATH, needed once to fetch ${neededFor}: ${MAVEN_HINT}`);
    throw err;
  });
}
