import { z } from "zod";

/** Most records one ingest request sends: a paste or a file, not a bulk loader. */
export const MAX_INGEST_RECORDS = 10_000;

export const ingestSchema = z.union([
  z.object({ texts: z.array(z.string().trim().min(1, "empty text")).min(1, "no texts").max(MAX_INGEST_RECORDS) }).strict(),
  z.object({ jsonl: z.string().min(1, "empty file") }).strict(),
]);

/** JSONL → one value per non-empty line; a bad line is named by number. */
export function parseJsonl(jsonl: string): { values: unknown[]; error?: string } {
  const values: unknown[] = [];
  const lines = jsonl.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    try {
      values.push(JSON.parse(line));
    } catch {
      return { values, error: `line ${i + 1} is not valid JSON` };
    }
    if (values.length > MAX_INGEST_RECORDS) return { values, error: `more than ${MAX_INGEST_RECORDS} records` };
  }
  return values.length === 0 ? { values, error: "no records in the file" } : { values };
}
