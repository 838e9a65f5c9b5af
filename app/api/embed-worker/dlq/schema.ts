import { z } from "zod";

/** Most entries one read returns: a bounded read the page can render and the server can hold. */
export const MAX_DLQ_LIMIT = 10_000;

const limit = z.coerce
  .number({ error: "expected an integer" })
  .int("expected an integer")
  .min(1, `expected 1..${MAX_DLQ_LIMIT}`)
  .max(MAX_DLQ_LIMIT, `expected 1..${MAX_DLQ_LIMIT}`);

export const dlqQuerySchema = z.object({ limit: limit.default(500) });

/** Downloads take any N (streamed, never held in memory), or `all`. */
export const dlqDownloadSchema = z.object({
  format: z.enum(["jsonl", "csv"]).default("jsonl"),
  limit: z.union([z.literal("all"), z.coerce.number().int("expected an integer or all").min(1, "expected ≥ 1 or all").max(1e9)]).default(500),
});

export const redriveSchema = z
  .object({
    /** Entries to redrive by id (`kafka:<p>:<offset>`), or `all` of the newest `limit`. */
    ids: z.union([z.literal("all"), z.array(z.string().max(100)).min(1).max(MAX_DLQ_LIMIT)]),
    limit: limit.default(500),
  })
  .strict();
