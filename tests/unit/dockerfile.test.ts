import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { stackProcesses, workerNodeArgs } from "../../scripts/launcher/processes";

/**
 * Docker builds cannot run here, so what the image's model stage needs is
 * checked from the files: that stage copies only the installer and the
 * modules it imports (to keep its cached layer, and the model download,
 * independent of other changes), and a module added to that import graph
 * without a COPY would break the build only on a machine with Docker.
 */

const root = path.resolve(__dirname, "../..");
const dockerfile = readFileSync(path.join(root, "Dockerfile"), "utf8");

/** The repo-relative .ts files `entry` reaches through relative imports. */
function importClosure(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(path.join(root, file), "utf8");
    for (const [, spec] of source.matchAll(/^\s*import\s[^;]*?from\s+"(\.{1,2}\/[^"]+)"/gms)) {
      const base = path.join(path.dirname(file), spec!);
      const found = [`${base}.ts`, path.join(base, "index.ts")].find((f) => existsSync(path.join(root, f)));
      if (!found) throw new Error(`${file}: cannot resolve ${spec}`);
      visit(found);
    }
  };
  visit(entry);
  return [...seen].sort();
}

/** Sources of the COPY lines between `FROM … AS <stage>` and the next FROM. */
function stageCopies(stage: string): string[] {
  const body = dockerfile.split(/^FROM /m).find((s) => new RegExp(`^\\S+ AS ${stage}\\b`).test(s)) ?? "";
  return [...body.matchAll(/^COPY\s+(?:--\S+\s+)*(.+)$/gm)].flatMap(([, args]) => args!.trim().split(/\s+/).slice(0, -1));
}

describe("Dockerfile", () => {
  it("copies into the model stage every module the model installer imports", () => {
    const copied = stageCopies("models");
    const covered = (file: string) => copied.some((src) => file === src || file.startsWith(`${src.replace(/\/$/, "")}/`));
    const modules = importClosure("scripts/install/models-cli.ts");
    expect(modules).toContain("scripts/install/zip.ts");
    expect(modules.filter((f) => !covered(f))).toEqual([]);
  });

  // npm install runs postinstall in the deps stage, before the sources are copied.
  it("gives the deps stage the scripts postinstall runs and the tools to build usearch's patched addon", () => {
    const postinstall = (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.postinstall ?? "";
    const scripts = [...postinstall.matchAll(/\bnode (\S+)/g)].map(([, file]) => file!);
    expect(scripts).toContain("scripts/install/usearch-native.mjs");
    const copied = stageCopies("deps");
    expect(scripts.filter((file) => !copied.includes(file))).toEqual([]);
    expect(copied).toContain("patches");
    const deps = dockerfile.split(/^FROM /m).find((s) => s.startsWith("node:20-bookworm-slim AS deps")) ?? "";
    expect(deps).toMatch(/apt-get install -y --no-install-recommends python3 make g\+\+/);
  });

  // With CONSOLE_TOKEN set every other path answers 401, and the container would never be healthy.
  it("checks the container's health on /api/live, the console's path that needs no credentials", () => {
    const healthcheck = /^HEALTHCHECK\b.*\\\n\s*CMD (.+)$/m.exec(dockerfile)?.[1];
    expect(healthcheck).toContain("http://127.0.0.1:3000/api/live");
    expect(healthcheck).not.toContain("/api/health");
  });

  it("creates the console's state directory (DATA_DIR/console) as the user the console runs as", () => {
    const finalStage = dockerfile.split(/^FROM /m).at(-1) ?? "";
    expect(finalStage).toMatch(/^RUN mkdir -p data\/console$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(finalStage).not.toMatch(/^USER root$/m);
  });

  it("builds the workers in the final stage, after the sources are copied", () => {
    const finalStage = dockerfile.split(/^FROM /m).at(-1) ?? "";
    const copy = finalStage.search(/^COPY --chown=node:node \. \.$/m);
    const build = finalStage.search(/^RUN node --import tsx scripts\/build-workers\.ts$/m);
    expect(copy).toBeGreaterThan(-1);
    expect(build).toBeGreaterThan(copy);
    // The image builds its own: a host's .build would be stale or for other sources.
    expect(readFileSync(path.join(root, ".dockerignore"), "utf8").split("\n")).toContain(".build");
  });

  // The compose services run the image's built workers exactly as the launcher runs them.
  it.each(stackProcesses.flatMap((p) => (p.launch.kind === "worker" ? [p] : [])).map((p) => [p.name, p.compose] as const))(
    "runs the %s worker in compose (%s and its copies) from the built output with the launcher's node arguments",
    (name, service) => {
      const services = (parse(readFileSync(path.join(root, "docker-compose.yml"), "utf8"), { merge: true }) as { services: Record<string, { command?: string[]; image?: string }> }).services;
      const ours = Object.entries(services).filter(([s, svc]) => (s === service || s.startsWith(`${service}-`)) && svc.image?.startsWith("embedline:"));
      // Spark runs from its own image (spark-submit), not from the launcher's spark process.
      if (name === "spark") return expect(ours).toEqual([]);
      expect(ours.length).toBeGreaterThan(0);
      for (const [, svc] of ours) expect(svc.command).toEqual(["node", ...workerNodeArgs("", name)]);
    },
  );

  it("runs the installer for INFERMESH_MODEL into the MODEL_CACHE_DIR the image sets", () => {
    const cacheDir = /^ENV MODEL_CACHE_DIR=(\S+)$/m.exec(dockerfile)?.[1];
    expect(cacheDir).toBeDefined();
    expect(dockerfile).toMatch(new RegExp(`^RUN node --import tsx scripts/install/models-cli\\.ts --cache-dir ${cacheDir} "\\$\\{INFERMESH_MODEL\\}"$`, "m"));
    expect(dockerfile).toMatch(new RegExp(`^COPY --from=models ${cacheDir} ${cacheDir}$`, "m"));
  });
});
