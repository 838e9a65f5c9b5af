import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { createLogger, type Logger } from "@/lib/log";

let root: Logger | undefined;

/** The console's logger for one route (lazy: config is parsed on first use). */
export function consoleLog(route: string): () => Logger {
  let log: Logger | undefined;
  return () => (log ??= (root ??= createLogger("console", consoleConfig().logLevel)).child({ route }));
}
