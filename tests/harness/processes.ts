import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Every live descendant of `pid`, read from /proc (Linux). */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // stat: "pid (comm) state ppid ..." — comm may contain spaces, so split after ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // The process ended while we read.
    }
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Command lines of processes matching `pattern` (pgrep -f), excluding pgrep itself. */
export function pgrep(pattern: string): string[] {
  const out = spawnSync("pgrep", ["-af", pattern], { encoding: "utf8" }).stdout ?? "";
  return out.split("\n").filter((l) => l.trim() && !l.includes("pgrep"));
}

export interface RunningCommand {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Start a command in its own process group (as a terminal would), capturing output. */
export function startCommand(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): RunningCommand {
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}
