import type { ComponentHealth, ComponentKind } from "./schema";

/** What a successful probe may add: a one-line summary shown beside the status. */
export interface ProbeSuccess {
  detail?: string | null;
}

/**
 * Checks one component. Resolves when healthy, throws when not. It must stop its
 * work when `signal` aborts (the runner's deadline); the runner does not race it.
 */
export type Probe = (signal: AbortSignal) => Promise<ProbeSuccess | void>;

export interface HealthComponent {
  name: string;
  kind: ComponentKind;
  target: string;
  probe: Probe;
  /** The launcher's process behind it, when the stack may run without it: not in use (not probed) when `npm start` did not start it. */
  process?: string;
  /** Set when the configuration leaves it out (no REDDB_URL): the one-line why; never probed. */
  notInUse?: string;
}

const MAX_ERROR_CHARS = 300;

const codeMessages: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_SOCKET: "connection closed by peer",
};

/** The first known system error code in the error's cause chain, with that error's message. */
function systemError(err: unknown): { code: string; message: string } | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code in codeMessages) return { code, message: String((e as { message?: unknown }).message ?? "") };
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** One readable line for an operator: no stack, no multi-line dumps, bounded length. */
export function describeProbeError(err: unknown, timeoutMs: number, timedOut: boolean): string {
  if (timedOut) return `timed out after ${timeoutMs} ms`;
  const sys = systemError(err);
  let line: string;
  if (sys) {
    // "connect ECONNREFUSED 127.0.0.1:9092" → "connection refused (127.0.0.1:9092)"
    const where = new RegExp(`${sys.code}\\s+(\\S+)`).exec(sys.message)?.[1];
    line = where ? `${codeMessages[sys.code]} (${where})` : codeMessages[sys.code]!;
  } else {
    const raw = err instanceof Error ? err.message : String(err);
    line = raw.replace(/\s+/g, " ").trim() || "probe failed";
  }
  return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS - 1)}…` : line;
}

/** Run one probe under a deadline; never throws. */
export async function runProbe(component: HealthComponent, timeoutMs: number): Promise<ComponentHealth> {
  const { name, kind, target } = component;
  const signal = AbortSignal.timeout(timeoutMs);
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  try {
    const out = await component.probe(signal);
    return { name, kind, target, state: "ok", ok: true, latencyMs: elapsed(), error: null, detail: out?.detail ?? null };
  } catch (err) {
    const error = describeProbeError(err, timeoutMs, signal.aborted);
    return { name, kind, target, state: "down", ok: false, latencyMs: elapsed(), error, detail: null };
  }
}
