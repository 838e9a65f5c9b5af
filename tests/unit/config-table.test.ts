import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { variables, type Variable } from "@/lib/config/variables";
import { currentConfigTable, END_MARKER, README_PATH, renderConfigTable, START_MARKER, withConfigTable } from "@/scripts/config-table";

describe("README configuration table", () => {
  it("is up to date with lib/config/variables.ts (run `npm run config:table`)", () => {
    const readme = readFileSync(README_PATH, "utf8");
    expect(currentConfigTable(readme), "README.md has no config-table markers").not.toBeNull();
    expect(currentConfigTable(readme)).toBe(renderConfigTable());
  });

  it("lists every variable once, with its default or `unset`, and marks secrets", () => {
    const table = renderConfigTable();
    for (const [name, spec] of Object.entries(variables) as [string, Variable][]) {
      const rows = table.split("\n").filter((l) => l.startsWith(`| \`${name}\``));
      expect(rows, name).toHaveLength(1);
      expect(rows[0]).toContain(spec.default === undefined ? " | unset | " : ` | \`${spec.default}\` | `);
      expect(rows[0]?.includes("(**secret**)")).toBe(spec.secret === true);
    }
  });

  it("groups rows under one heading per group, in the registry's order", () => {
    const headings = renderConfigTable().split("\n").filter((l) => l.startsWith("### "));
    const groups = [...new Set(Object.values(variables).map((v) => v.group))];
    expect(headings).toEqual(groups.map((g) => `### ${g}`));
  });

  it("escapes pipes and line breaks so a cell cannot break the table", () => {
    const table = renderConfigTable({ X: { group: "Stack", schema: variables.LOG_LEVEL.schema, default: "a|b", doc: "one | two\nthree" } });
    expect(table).toContain("| `X` | `a\\|b` | one \\| two three |");
  });

  it("replaces only the text between the markers", () => {
    const readme = `# T\n\nbefore\n${START_MARKER}\nold\n${END_MARKER}\nafter\n`;
    expect(withConfigTable(readme, "NEW")).toBe(`# T\n\nbefore\n${START_MARKER}\nNEW\n${END_MARKER}\nafter\n`);
    expect(currentConfigTable(withConfigTable(readme, "NEW"))).toBe("NEW");
    expect(() => withConfigTable("# T\n", "NEW")).toThrow(/config-table:start/);
  });
});
