import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * Configuration is read in one place (lib/config); everything else gets typed
 * values from there. The only other readers: the bootstrap script (runs before
 * dependencies exist), test harnesses handing an environment to children, and
 * Next/Playwright config files. ESLint enforces the same; this test also sees
 * files ESLint is not run on.
 */
const allowed = ["lib/config/", "scripts/bootstrap.mjs", "tests/", "e2e/", "playwright.config.ts", "next.config.mjs"];
const skipped = ["node_modules/", ".next/", "data/"];
/**
 * Variables set by Next itself, not by an operator, read where Next documents
 * reading them: instrumentation.ts checks `process.env.NEXT_RUNTIME`, which the
 * bundler replaces with a constant per runtime.
 */
const allowedReads: Record<string, string[]> = { "instrumentation.ts": ["NEXT_RUNTIME"] };
const sourceFile = /\.(ts|tsx|mts|cts|mjs|cjs|js|jsx)$/;

const root = path.resolve(__dirname, "../..");

/** Git-tracked and untracked (not ignored) source files, as repo-relative paths. */
function sourceFiles(): string[] {
  const out = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
  return [...new Set(out.split("\0"))]
    .filter((f) => sourceFile.test(f) && !skipped.some((s) => f.startsWith(s)) && !f.includes("/node_modules/"))
    .filter((f) => existsSync(path.join(root, f)));
}

const isProcess = (e: ts.Expression): boolean =>
  (ts.isIdentifier(e) && e.text === "process") || (ts.isPropertyAccessExpression(e) && e.name.text === "process");

/**
 * Lines (1-based) where code reads the environment: `process.env`,
 * `process["env"]`, `{ env } = process`, `import { env } from "node:process"`,
 * leaving out `process.env.NAME` for the `names` given.
 */
function envReads(fileName: string, code: string, names: readonly string[] = []): number[] {
  const file = ts.createSourceFile(fileName, code, ts.ScriptTarget.Latest, true, fileName.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const lines: number[] = [];
  const hit = (n: ts.Node) => lines.push(file.getLineAndCharacterOfPosition(n.getStart(file)).line + 1);
  const visit = (n: ts.Node) => {
    if (ts.isPropertyAccessExpression(n) && n.name.text === "env" && isProcess(n.expression)) {
      const read = n.parent;
      if (!(ts.isPropertyAccessExpression(read) && read.expression === n && names.includes(read.name.text))) hit(n);
    }
    else if (ts.isElementAccessExpression(n) && isProcess(n.expression) && ts.isStringLiteralLike(n.argumentExpression) && n.argumentExpression.text === "env") hit(n);
    else if (
      ts.isVariableDeclaration(n) &&
      n.initializer &&
      isProcess(n.initializer) &&
      ts.isObjectBindingPattern(n.name) &&
      n.name.elements.some((el) => ((el.propertyName ?? el.name) as ts.Identifier).text === "env")
    )
      hit(n);
    else if (
      ts.isImportDeclaration(n) &&
      ts.isStringLiteral(n.moduleSpecifier) &&
      ["process", "node:process"].includes(n.moduleSpecifier.text) &&
      n.importClause?.namedBindings &&
      ts.isNamedImports(n.importClause.namedBindings) &&
      n.importClause.namedBindings.elements.some((el) => (el.propertyName ?? el.name).text === "env")
    )
      hit(n);
    ts.forEachChild(n, visit);
  };
  visit(file);
  return lines;
}

describe("process.env is read only by lib/config (and the listed exceptions)", () => {
  it("finds the ways code reads the environment, not mentions in comments or strings", () => {
    const code = [
      "// process.env in a comment",
      'const s = "process.env in a string";',
      "const a = process.env.A;",
      'const b = process["env"];',
      "const { env } = process;",
      "const c = globalThis.process.env;",
      'import { env as e } from "node:process";',
    ].join("\n");
    expect(envReads("x.ts", code)).toEqual([3, 4, 5, 6, 7]);
    expect(envReads("x.ts", "if (process.env.NEXT_RUNTIME && process.env.A) {}", ["NEXT_RUNTIME"])).toEqual([1]);
  });

  // Parses every source file of the tree: seconds on 2 busy cores, not a timing.
  it("no other file reads it", { timeout: 60_000 }, () => {
    const files = sourceFiles();
    expect(files).toContain("lib/config/env.ts"); // the walk sees the tree
    const offenders = files
      .filter((f) => !allowed.some((a) => (a.endsWith("/") ? f.startsWith(a) : f === a)))
      .flatMap((f) => envReads(f, readFileSync(path.join(root, f), "utf8"), allowedReads[f]).map((line) => `${f}:${line}`));
    expect(offenders, "read configuration through lib/config instead").toEqual([]);
  });
});
