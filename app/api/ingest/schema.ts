import { z } from "zod";
import { formatBytes } from "@/lib/http/api-error";
import { INGEST_MAX_JSONL_BYTES, INGEST_MAX_TEXT_BYTES, MAX_INGEST_RECORDS, utf8Length } from "./limits";

export { INGEST_MAX_BYTES, INGEST_MAX_JSONL_BYTES, INGEST_MAX_TEXT_BYTES, MAX_INGEST_RECORDS } from "./limits";

const count = (n: number) => n.toLocaleString("en-US");

const texts = z
  .array(z.string().trim().min(1, "empty text"))
  .min(1, "no texts")
  .max(MAX_INGEST_RECORDS, `more than ${count(MAX_INGEST_RECORDS)} texts in one request`)
  .superRefine((all, ctx) => {
    for (let i = 0; i < all.length; i++) {
      const bytes = utf8Length(all[i]!);
      if (bytes > INGEST_MAX_TEXT_BYTES) {
        ctx.addIssue({ code: "custom", message: `text ${i + 1} of ${count(all.length)} is ${count(bytes)} bytes in UTF-8, over the ${formatBytes(INGEST_MAX_TEXT_BYTES)} limit per text` });
        return;
      }
    }
  });

const jsonl = z
  .string()
  .min(1, "empty file")
  .refine((s) => utf8Length(s) <= INGEST_MAX_JSONL_BYTES, `the JSONL file is over the ${formatBytes(INGEST_MAX_JSONL_BYTES)} limit`);

/**
 * `{texts: [...]}` or `{jsonl: "..."}`. One object with both optional rather
 * than a union: a union's failure names neither branch's problem ("more than
 * 10,000 texts" came out as "invalid input").
 */
const EXPECTED = 'expected {"texts": ["…"]} or {"jsonl": "…"}';

export const ingestSchema = z
  .strictObject(
    { texts: texts.optional(), jsonl: jsonl.optional() },
    { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}: ${EXPECTED}` : undefined) },
  )
  // Only when the fields themselves are fine, so one problem gives one message.
  .refine((b) => (b.texts === undefined) !== (b.jsonl === undefined), { message: EXPECTED, when: (payload) => payload.issues.length === 0 })
  .transform((b): { texts: string[] } | { jsonl: string } => (b.texts !== undefined ? { texts: b.texts } : { jsonl: b.jsonl! }));

/**
 * JSONL → one value per non-empty line; a bad line is named by number. A line
 * longer than INGEST_MAX_TEXT_BYTES or more than MAX_INGEST_RECORDS records is
 * an error too: each line becomes one Kafka record as it is.
 */
export function parseJsonl(jsonl: string): { values: unknown[]; error?: string } {
  const values: unknown[] = [];
  const lines = jsonl.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    const bytes = utf8Length(line);
    if (bytes > INGEST_MAX_TEXT_BYTES) return { values, error: `line ${i + 1} is ${count(bytes)} bytes, over the ${formatBytes(INGEST_MAX_TEXT_BYTES)} limit per record` };
    try {
      values.push(JSON.parse(line));
    } catch {
      return { values, error: `line ${i + 1} is not valid JSON` };
    }
    if (values.length > MAX_INGEST_RECORDS) return { values, error: `more than ${count(MAX_INGEST_RECORDS)} records in the file (line ${i + 1})` };
  }
  return values.length === 0 ? { values, error: "no records in the file" } : { values };
}
