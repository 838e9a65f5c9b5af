/** Prometheus' own checker (Debian's `prometheus` package; `npm test` installs it), for tests of what we expose to it. */
import { spawnSync } from "node:child_process";

function promtool(args: string[], input?: string, cwd?: string): { status: number | null; output: string } {
  const r = spawnSync("promtool", args, { input, cwd, encoding: "utf8", timeout: 30_000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    throw new Error("promtool is not installed: install Debian's `prometheus` package (apt-get install -y prometheus); `npm test` does this for you");
  }
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** `promtool check metrics`: parses an exposition (text format 0.0.4) and lints it; empty output and status 0 when clean. */
export const promtoolCheckMetrics = (exposition: string) => promtool(["check", "metrics"], exposition);

/** `promtool check config <file>`: validates a Prometheus configuration file offline (and the rule files it names). */
export const promtoolCheckConfig = (file: string, cwd?: string) => promtool(["check", "config", file], undefined, cwd);

/** `promtool test rules <file>`: runs alerting-rule unit tests (synthetic series, expected alerts). */
export const promtoolTestRules = (file: string, cwd?: string) => promtool(["test", "rules", file], undefined, cwd);
