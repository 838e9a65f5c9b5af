import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Logger } from "../../lib/log";
import { StackError } from "../stack-error";

const sources = ["app", "components", "lib", "public", "instrumentation.ts", "proxy.ts", "next.config.mjs", "postcss.config.mjs", "tsconfig.json", "package-lock.json"];

function sourceHash(root: string): string {
  const hash = createHash("sha256");
  for (const entry of sources) {
    const full = path.join(root, entry);
    if (!existsSync(full)) continue;
    const files = statSync(full).isDirectory()
      ? readdirSync(full, { recursive: true, encoding: "utf8" }).map((f) => path.join(full, f)).filter((f) => statSync(f).isFile()).sort()
      : [full];
    for (const file of files) hash.update(path.relative(root, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  return hash.digest("hex");
}

/**
 * `next build` when the console's sources changed since the last build, so a
 * re-run of `npm start` or `npm test` does not pay for a build it already has.
 */
export function ensureConsoleBuilt(root: string, env: NodeJS.ProcessEnv, log: Logger): void {
  const hash = sourceHash(root);
  const stamp = path.join(root, ".next", "embedline-source-sha256");
  if (existsSync(path.join(root, ".next", "BUILD_ID")) && existsSync(stamp) && readFileSync(stamp, "utf8") === hash) return;
  log.info("building the console (next build)");
  const started = Date.now();
  const result = spawnSync(process.execPath, [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"], {
    cwd: root,
    env,
    stdio: "inherit",
  });
  if (result.status !== 0) throw new StackError("the console build failed (see the output above); `npx next build` reproduces it");
  writeFileSync(stamp, hash);
  log.info({ durationMs: Date.now() - started }, "console built");
}
