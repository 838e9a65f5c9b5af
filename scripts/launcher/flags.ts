import type { StackConfig } from "../../lib/config/stack";

/** Most instances of one process `npm start` starts on one machine: each bundled service holds its model (~750 MB), each indexer its vectors. */
export const MAX_INSTANCES = 16;

/** Flags that take a count, and the `cfg.scale` entry each sets. */
const COUNT_FLAGS = { "--embedders": "embedders", "--indexers": "indexers" } as const satisfies Record<string, keyof StackConfig["scale"]>;

export interface LauncherArgs {
  /** On/off flags such as --reddb or --spark. */
  flags: Set<string>;
  scale: StackConfig["scale"];
}

export class LauncherArgsError extends Error {}

/**
 * `npm start -- [--reddb] [--spark] [--embedders N] [--indexers N]` (also
 * `--embedders=N`). An unknown option, a count that is not an integer from 1
 * to MAX_INSTANCES, or a repeated count is refused with one line.
 */
export function parseLauncherArgs(argv: readonly string[], knownFlags: ReadonlySet<string>): LauncherArgs {
  const flags = new Set<string>();
  const scale = { embedders: 1, indexers: 1 };
  const counted = new Set<string>();
  const known = [...knownFlags, ...Object.keys(COUNT_FLAGS).map((f) => `${f} N`)];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (Object.hasOwn(COUNT_FLAGS, name)) {
      const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      if (counted.has(name)) throw new LauncherArgsError(`${name} given twice`);
      counted.add(name);
      if (value === undefined || !/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > MAX_INSTANCES) {
        throw new LauncherArgsError(`${name} takes a number of instances from 1 to ${MAX_INSTANCES}${value === undefined ? "" : `, not ${JSON.stringify(value.slice(0, 40))}`}`);
      }
      scale[COUNT_FLAGS[name as keyof typeof COUNT_FLAGS]] = Number(value);
      continue;
    }
    if (!knownFlags.has(arg)) throw new LauncherArgsError(`unknown option ${JSON.stringify(arg.slice(0, 80)).slice(1, -1)} (known: ${known.join(" ")})`);
    flags.add(arg);
  }
  return { flags, scale };
}
