import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadOrExit } from "@/lib/config/load";

const root = path.resolve(__dirname, "../..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");

/** Boot the launcher's config the way a process does, in a child with only `env` (and PATH). */
function boot(env: Record<string, string>) {
  const code = [
    'import { loadOrExit } from "./lib/config/load";',
    'import { parseStackConfig } from "./lib/config/stack";',
    "const cfg = loadOrExit(parseStackConfig);",
    "process.stdout.write(JSON.stringify({ partitions: cfg.kafka.partitions, heap: cfg.kafka.heap }));",
  ].join("\n");
  return spawnSync(tsx, ["-e", code], { cwd: root, env: Object.assign(Object.create(null) as NodeJS.ProcessEnv, { PATH: process.env.PATH ?? "" }, env), encoding: "utf8", timeout: 60_000 });
}

describe("loadOrExit", () => {
  it("exits 2 with one line on stderr naming the bad variable", () => {
    const r = boot({ EMBED_TOPIC_PARTITIONS: "lots" });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe('embedline: invalid configuration: EMBED_TOPIC_PARTITIONS="lots": expected an integer from 1 to 1024\n');
  });

  it("starts normally with defaults, and with an empty value standing for unset", () => {
    const r = boot({ KAFKA_HEAP: "" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ partitions: 3, heap: "512m" });
  });

  it("returns the parsed config and lets errors other than bad values through", () => {
    expect(loadOrExit((env) => env.X, { X: "y" })).toBe("y");
    expect(() =>
      loadOrExit(() => {
        throw new TypeError("a bug");
      }, {}),
    ).toThrow(TypeError);
  });
});
