import pino, { type Logger } from "pino";

export type { Logger };

/**
 * The one logger factory. Every process logs JSON lines to stdout; the launcher
 * prefixes them with the process name. Never log texts, vectors or tokens.
 */
export function createLogger(name: string, level = "info"): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid },
    redact: { paths: ["*.authorization", "*.token", "*.apiKey", "*.text"], censor: "[redacted]" },
  });
}
