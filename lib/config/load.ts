import { ConfigError, type RawEnv } from "./env";

/**
 * Run a process's config parser once at start. A bad value stops the process
 * with one line on stderr and exit code 2; anything else is a bug and throws.
 */
export function loadOrExit<T>(parse: (env: RawEnv) => T, env: RawEnv = process.env): T {
  try {
    return parse(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`embedline: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * A copy of this process's environment for the processes it starts. Children
 * parse it themselves with their own schema; the launcher only adds to it.
 */
export function inheritedEnv(): NodeJS.ProcessEnv {
  return { ...process.env };
}
