import { randomBytes } from "node:crypto";
import { appendFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { parseStackConfig } from "../lib/config/stack";
import { createLogger } from "../lib/log";
import { repoRoot, startConsole, startStack } from "../scripts/launcher";
import { freePort } from "../tests/harness/free-port";
import { TOKEN_CONSOLE } from "./token-console";

/**
 * The browser tests run against the real stack — Kafka and the console's
 * production build — started through the launcher, as `npm start` does.
 * `npm test` hands over free ports and a throwaway DATA_DIR; run by hand, the
 * defaults apply but the data stays apart from a dev stack's.
 *
 * Beside the stack's console (open, no CONSOLE_TOKEN: the "open" project), a
 * second console of the same build on the same stack with CONSOLE_TOKEN set
 * (the "token" project and e2e/security.spec.ts): started the way the
 * launcher starts its console, on a free port.
 */
export default async function globalSetup() {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: process.env.DATA_DIR ?? path.join(repoRoot, "data", "test", "e2e") };
  // Both consoles run the access defaults the checks are written against (the
  // open one open), whatever the shell running the tests exports.
  for (const name of ["CONSOLE_TOKEN", "CONSOLE_ALLOWED_HOSTS", "CONSOLE_TRUST_PROXY", "CONSOLE_SESSION_TTL", "CONSOLE_SSE_MAX_PER_CLIENT", "CONSOLE_SSE_MAX_TOTAL"]) delete env[name];
  const cfg = parseStackConfig(env);
  const log = createLogger("e2e-stack", "warn");
  // The stack's own output goes to a file beside its data, to read when a test fails.
  mkdirSync(cfg.dataDir, { recursive: true });
  const logFile = path.join(cfg.dataDir, "stack.log");
  const onLine = (name: string, line: string) => appendFileSync(logFile, `${name} | ${line}\n`);
  const stack = await startStack({ cfg, env, flags: new Set(), log, onLine });
  const token = randomBytes(24).toString("base64url");
  let tokenConsole;
  try {
    tokenConsole = await startConsole({
      cfg,
      env: { ...stack.consoleEnv, CONSOLE_TOKEN: token },
      port: await freePort(),
      onLine: (line) => onLine("console-token", line),
    });
  } catch (err) {
    await stack.stop();
    throw err;
  }
  // Test workers inherit this process's environment: tell them where the broker and the token console are.
  process.env.KAFKA_BOOTSTRAP_SERVERS = stack.brokers.join(",");
  process.env[TOKEN_CONSOLE.urlVariable] = tokenConsole.url;
  process.env[TOKEN_CONSOLE.tokenVariable] = token;
  return async () => {
    await tokenConsole.stop();
    await stack.stop();
  };
}
