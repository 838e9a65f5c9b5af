import { spawn, type ChildProcess } from "node:child_process";
import readline from "node:readline";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Supervised {
  name: string;
  child: ChildProcess;
  /** Settles when the process has exited, for whatever reason. */
  exited: Promise<Exit>;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the process is gone. */
  stop(timeoutMs: number): Promise<Exit>;
}

export interface SuperviseOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Each output line, already split; the launcher prefixes it with the name. */
  onLine: (name: string, line: string) => void;
}

/** Start one process of the stack with line-buffered, prefixed output. */
export function supervise(name: string, command: string, args: string[], opts: SuperviseOptions): Supervised {
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on("line", (line) => opts.onLine(name, line));
  }
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    // spawn failures (ENOENT) emit 'error' and never 'exit'.
    child.once("error", (err) => {
      opts.onLine(name, `failed to start: ${err.message}`);
      resolve({ code: 127, signal: null });
    });
  });
  const stop = async (timeoutMs: number): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  return { name, child, exited, stop };
}
