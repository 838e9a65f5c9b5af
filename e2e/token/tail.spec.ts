import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test } from "./fixtures";

/**
 * `npm run tail` against the console behind CONSOLE_TOKEN: the bearer form
 * tools use, the token from the environment or from a file, never from the
 * command line.
 */
const root = path.resolve(import.meta.dirname, "..", "..");

function tail(baseURL: string, env: Record<string, string>, extraArgs: string[] = []) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!("CONSOLE_TOKEN" in env)) delete childEnv.CONSOLE_TOKEN;
  return spawnSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", "tail.ts"), "infermesh", "--once", "--url", baseURL, ...extraArgs], {
    cwd: root,
    env: childEnv,
    encoding: "utf8",
    timeout: 60_000,
  });
}

test("npm run tail sends CONSOLE_TOKEN from its environment as a bearer token", async ({ baseURL, consoleToken }) => {
  const run = tail(baseURL!, { CONSOLE_TOKEN: consoleToken });
  expect(run.status, run.stderr).toBe(0);
  const line = JSON.parse(run.stdout.trim().split("\n")[0]!) as { event: string; data: { infermesh: { status: string } } };
  expect(line).toMatchObject({ event: "infermesh", data: { infermesh: { status: "healthy" } } });
});

test("npm run tail reads the token from --token-file", async ({ baseURL, consoleToken }) => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "embedline-tail-")), "token");
  writeFileSync(file, `${consoleToken}\n`, { mode: 0o600 });
  const run = tail(baseURL!, {}, ["--token-file", file]);
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toContain('"event":"infermesh"');
});

test("npm run tail without the token stops at once and says what to set", async ({ baseURL }) => {
  const run = tail(baseURL!, {});
  expect(run.status).toBe(1);
  expect(run.stdout).toBe("");
  expect(run.stderr).toContain("HTTP 401");
  expect(run.stderr).toContain("set it in the environment or pass --token-file FILE");
});
