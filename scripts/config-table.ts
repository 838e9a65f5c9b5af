/**
 * The README's configuration table, generated from lib/config/variables.ts.
 *
 *   npx tsx scripts/config-table.ts           rewrite the table in README.md
 *   npx tsx scripts/config-table.ts --check   exit 1 when README.md is stale
 *
 * The table sits between the START_MARKER and END_MARKER lines; everything
 * around them belongs to the README's authors.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { variables, type Variable } from "../lib/config/variables";

export const START_MARKER = "<!-- config-table:start -->";
export const END_MARKER = "<!-- config-table:end -->";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const README_PATH = path.join(root, "README.md");

/** A table cell: one line, pipes escaped so they do not split the cell. */
const cell = (s: string) => s.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");

/** Markdown tables, one per group in the registry's order: variable, default, meaning; secrets marked. */
export function renderConfigTable(vars: Readonly<Record<string, Variable>> = variables): string {
  const groups = new Map<string, [string, Variable][]>();
  for (const [name, spec] of Object.entries(vars)) {
    const rows = groups.get(spec.group) ?? [];
    rows.push([name, spec]);
    groups.set(spec.group, rows);
  }
  const out = [
    "<!-- Generated from lib/config/variables.ts by `npm run config:table`; edit the registry, not this table. -->",
    "",
    "An empty value counts as unset. Variables marked **secret** are never logged, never shown by `/config` and never sent to a browser.",
  ];
  for (const [group, rows] of groups) {
    out.push("", `### ${group}`, "", "| Variable | Default | Meaning |", "|---|---|---|");
    for (const [name, spec] of rows) {
      const variable = `\`${name}\`${spec.secret ? " (**secret**)" : ""}`;
      const fallback = spec.default === undefined ? "unset" : `\`${cell(spec.default)}\``;
      out.push(`| ${variable} | ${fallback} | ${cell(spec.doc)} |`);
    }
  }
  return out.join("\n");
}

/** The README with the text between the markers replaced; throws when the markers are missing or out of order. */
export function withConfigTable(readme: string, table: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < start) throw new Error(`README.md has no "${START_MARKER}" … "${END_MARKER}" section`);
  return `${readme.slice(0, start + START_MARKER.length)}\n${table}\n${readme.slice(end)}`;
}

/** The table currently between the markers, or null when there are none. */
export function currentConfigTable(readme: string): string | null {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < start) return null;
  return readme.slice(start + START_MARKER.length, end).replace(/^\n/, "").replace(/\n$/, "");
}

function main(args: string[]): number {
  const table = renderConfigTable();
  const readme = existsSync(README_PATH) ? readFileSync(README_PATH, "utf8") : null;
  if (args.includes("--check")) {
    if (readme !== null && currentConfigTable(readme) === table) return 0;
    process.stderr.write("embedline: README.md's configuration table is stale; run `npm run config:table`\n");
    return 1;
  }
  const base = readme ?? `# Embedline\n\n${START_MARKER}\n${END_MARKER}\n`;
  try {
    const next = withConfigTable(base, table);
    if (next !== readme) writeFileSync(README_PATH, next);
    process.stdout.write(`embedline: ${next === readme ? "README.md is up to date" : "wrote the configuration table to README.md"}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`embedline: ${(err as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
