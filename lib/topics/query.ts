import { z } from "zod";

/**
 * The topic browser's read, as GET /api/topics/{name}/messages and
 * …/export take it in their query string. Where to start, at most one of:
 * `offset` (one partition's, so `partition` is needed), `timestamp` (each
 * partition's first record at or after it), `cursor` (where a previous page
 * stopped, per partition); none: the newest records. `key` keeps only the
 * records with that key. No runtime imports beyond zod: the pages build
 * their links with the same names.
 */

/** Most records one page shows: a page the browser renders at once and the console holds while merging partitions. */
export const MAX_MESSAGES = 500;
/** Values are sent whole (`full=1`) for at most this many records at once: a full value can be the topic's max.message.bytes. */
export const MAX_FULL_MESSAGES = 10;
/** Most partitions a cursor names (Kafka's own default cap on a topic's partitions is far above what Embedline creates). */
const MAX_CURSOR_PARTITIONS = 4096;
/** Most characters of a key filter: a doc_id may be long (the kNN query takes 64 Ki). */
export const MAX_KEY_CHARS = 65536;

const offsetString = z.string().regex(/^\d{1,19}$/, "expected a decimal offset ≥ 0").transform((s) => BigInt(s)).refine((n) => n <= 2n ** 63n - 1n, "expected an offset below 2^63");

const partition = z.coerce
  .number({ error: "expected a partition number" })
  .int("expected a partition number (an integer ≥ 0)")
  .min(0, "expected a partition number (an integer ≥ 0)")
  .max(2 ** 31 - 1, "expected a partition number below 2^31");

/** ISO 8601 with a date (`2026-12-02T08:00:00Z`, `2026-12-02`) or epoch milliseconds; epoch ms out. */
const timestamp = z.string().transform((s, ctx) => {
  const ms = /^\d{1,16}$/.test(s) ? Number(s) : /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) ? Date.parse(s) : NaN;
  if (!Number.isFinite(ms) || ms < 0 || ms > 8.64e15) {
    ctx.addIssue({ code: "custom", message: `timestamp ${JSON.stringify(s.slice(0, 40))} is not a time: give ISO 8601 (2026-12-02T08:00:00Z) or epoch milliseconds` });
    return z.NEVER;
  }
  return ms;
});

/** `0:120,1:98`: partition:offset pairs, as a page's `next` gives them. */
const cursor = z.string().transform((s, ctx) => {
  const parts = s.split(",");
  const pairs = parts.map((p) => /^(\d{1,10}):(\d{1,19})$/.exec(p));
  if (parts.length > MAX_CURSOR_PARTITIONS || pairs.some((m) => !m)) {
    ctx.addIssue({ code: "custom", message: "cursor must be partition:offset pairs separated by commas (0:120,1:98), as a page's next gives it" });
    return z.NEVER;
  }
  const out = new Map<number, bigint>();
  for (const m of pairs) out.set(Number(m![1]), BigInt(m![2]!));
  return out;
});

const flag = z.enum(["0", "1", "true", "false"], { error: "expected 1 or 0" }).transform((v) => v === "1" || v === "true");

const common = {
  partition: partition.optional(),
  offset: offsetString.optional(),
  timestamp: timestamp.optional(),
  cursor: cursor.optional(),
  key: z.string().min(1, "key is empty; leave it out to see every record").max(MAX_KEY_CHARS, `key is longer than ${MAX_KEY_CHARS} characters`).optional(),
};

type Position = { partition?: number; offset?: bigint; timestamp?: number; cursor?: Map<number, bigint> };
function checkPosition(q: Position, ctx: z.RefinementCtx): void {
  const given = (["offset", "timestamp", "cursor"] as const).filter((f) => q[f] !== undefined);
  if (given.length > 1) ctx.addIssue({ code: "custom", message: `give at most one of offset, timestamp or cursor (got ${given.join(" and ")})` });
  else if (q.offset !== undefined && q.partition === undefined) ctx.addIssue({ code: "custom", message: "offset needs a partition: offsets are per partition (add partition=N, or use timestamp)" });
  else if (q.cursor !== undefined && q.partition !== undefined) ctx.addIssue({ code: "custom", message: "cursor names its own partitions: leave partition out" });
}

const limitMessage = `limit must be an integer from 1 to ${MAX_MESSAGES}`;

export const messagesQuerySchema = z
  .object({
    ...common,
    limit: z.coerce.number({ error: limitMessage }).int(limitMessage).min(1, limitMessage).max(MAX_MESSAGES, limitMessage).default(50),
    vectors: z.enum(["summary", "full"], { error: "expected summary or full" }).default("summary"),
    full: flag.default(false),
  })
  .superRefine((q, ctx) => {
    checkPosition(q, ctx);
    if (q.full && q.limit > MAX_FULL_MESSAGES) ctx.addIssue({ code: "custom", message: `full=1 sends values whole: at most ${MAX_FULL_MESSAGES} records (limit ≤ ${MAX_FULL_MESSAGES}); the export has any number whole` });
  });
export type MessagesQuery = z.output<typeof messagesQuerySchema>;

/** The export takes any number of records (streamed, never held), or `all`. */
export const exportQuerySchema = z
  .object({
    ...common,
    limit: z.union([z.literal("all"), z.coerce.number().int("expected an integer or all").min(1, "expected ≥ 1 or all").max(1e9, "expected ≤ 1,000,000,000 or all")]).default(10_000),
  })
  .superRefine(checkPosition);
export type ExportQuery = z.output<typeof exportQuerySchema>;
