import type { z } from "zod";
import { redactUrl } from "./redact";
import { variables, type VariableName } from "./variables";

type Vars = typeof variables;
type Parsed<N extends VariableName> = Vars[N] extends { default: string }
  ? z.output<Vars[N]["schema"]>
  : z.output<Vars[N]["schema"]> | undefined;

export type Env<N extends VariableName> = { [K in N]: Parsed<K> };
export type RawEnv = Record<string, string | undefined>;

/** A bad value: the message is the one line an operator needs. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly variable: string,
    readonly expected: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Parse the named variables from `env`. An empty string counts as unset, as
 * shells and compose files often export `VAR=` to mean "no value".
 */
export function parseEnv<const N extends VariableName>(names: readonly N[], env: RawEnv): Env<N> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const spec = variables[name] as { schema: z.ZodType; default?: string; secret?: boolean };
    const given = env[name];
    const raw = given === undefined || given.trim() === "" ? spec.default : given;
    if (raw === undefined) {
      out[name] = undefined;
      continue;
    }
    const result = spec.schema.safeParse(raw);
    if (!result.success) {
      const expected = result.error.issues[0]?.message ?? "a valid value";
      // A URL's credentials are as secret as a secret variable: masked in the one line printed.
      const shown = spec.secret ? "" : `=${JSON.stringify(redactUrl(raw))}`;
      throw new ConfigError(name, expected, `invalid configuration: ${name}${shown}: ${expected}`);
    }
    out[name] = result.data;
  }
  return out as Env<N>;
}
