// `npm start`: install what is missing, start the whole stack, stop it on Ctrl-C.
import { inheritedEnv, loadOrExit } from "../lib/config/load";
import { parseStackConfig } from "../lib/config/stack";
import { describeExit } from "../lib/health/supervisor-state";
import { createLogger } from "../lib/log";
import { startStack } from "./launcher";
import { LauncherArgsError, parseLauncherArgs, type LauncherArgs } from "./launcher/flags";
import { stackProcesses } from "./launcher/processes";
import { StackError } from "./stack-error";

const knownFlags = new Set(stackProcesses.flatMap((p) => (p.flag ? [p.flag] : [])));

async function main(): Promise<number> {
  let args: LauncherArgs;
  try {
    args = parseLauncherArgs(process.argv.slice(2), knownFlags);
  } catch (err) {
    if (!(err instanceof LauncherArgsError)) throw err;
    process.stderr.write(`embedline: ${err.message}\n`);
    return 2;
  }
  const { flags, scale } = args;
  const cfg = loadOrExit(parseStackConfig);
  const log = createLogger("launcher", cfg.logLevel);

  // A signal during start-up is acted on once startStack returns or fails: Ctrl-C
  // reaches the children too (same process group), so start-up ends quickly.
  let signalled: NodeJS.Signals | undefined;
  const interrupted = new Promise<NodeJS.Signals>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve((signalled = signal)));
  });

  let stack: Awaited<ReturnType<typeof startStack>>;
  try {
    stack = await startStack({ cfg, env: inheritedEnv(), flags, scale, log });
  } catch (err) {
    if (err instanceof StackError) {
      process.stderr.write(`embedline: ${signalled ? `stopped by ${signalled}` : err.message}\n`);
      if (err.hint && !signalled) process.stderr.write(`${err.hint}\n`);
      return signalled ? 0 : 1;
    }
    throw err;
  }
  const stop = async (reason: string, code: number) => {
    log.info({ reason }, "stopping the stack");
    await stack.stop();
    log.info("stack stopped");
    return code;
  };
  if (signalled) return stop(signalled, 0);
  const login = cfg.console.login ? "; log in with CONSOLE_TOKEN" : "";
  process.stdout.write(`\nEmbedline is running. Console: ${stack.consoleUrl}  (Ctrl-C stops everything; a process that exits is restarted${login})\n\n`);
  return Promise.race([
    interrupted.then((signal) => stop(signal, 0)),
    stack.crashLooped.then(({ name, exit, exitsInWindow }) => {
      const window = cfg.supervision.crashLoopWindowMs / 1000;
      process.stderr.write(
        `embedline: ${name} is crash-looping (${exitsInWindow} exits within ${window} s, last: ${describeExit(exit)}${exit.error ? `: ${exit.error}` : ""}); stopping the stack\n`,
      );
      return stop(`${name} crash-looped`, 1);
    }),
  ]);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`embedline: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
