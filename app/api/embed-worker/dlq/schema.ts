import { z } from "zod";
import { DLQ_STAGES } from "@/lib/records/dlq-record";

/** Most entries one read returns: a bounded read the page can render and the server can hold. */
export const MAX_DLQ_LIMIT = 10_000;

const limit = z.coerce
  .number({ error: "expected an integer" })
  .int("expected an integer")
  .min(1, `expected 1..${MAX_DLQ_LIMIT}`)
  .max(MAX_DLQ_LIMIT, `expected 1..${MAX_DLQ_LIMIT}`);

/** Only entries of this stage (recorded, or inferred for entries written before stages were). */
const stage = z.enum(DLQ_STAGES, { error: `expected one of ${DLQ_STAGES.join(", ")}` }).optional();
/** `kafka` (default): both Kafka DLQ topics; `reddb`: RedDB's DLQ stream, when REDDB_URL is set. */
const source = z.enum(["kafka", "reddb"], { error: "expected kafka or reddb" }).default("kafka");

export const dlqQuerySchema = z.object({ limit: limit.default(500), stage, source });

/**
 * The `partial` field of the list's and redrive's answers (lib/dlq/partial.ts):
 * `null` when the answer is all that was asked for (or all the source holds);
 * else why it is short — `source_cap`: the source returns at most `limit`
 * entries per read and holds more (RedDB: 1,000); `deadline`: the read stopped
 * at its deadline with `limit` entries. A download whose source will cap it
 * says so in the `X-Embedline-Partial: <reason>; limit=<n>` response header.
 */
export const dlqPartialSchema = z
  .object({ reason: z.enum(["source_cap", "deadline"]), limit: z.number().int().min(0), message: z.string() })
  .strict()
  .nullable();

/** Downloads take any N (streamed, never held in memory), or `all`. */
export const dlqDownloadSchema = z.object({
  format: z.enum(["jsonl", "csv"]).default("jsonl"),
  limit: z.union([z.literal("all"), z.coerce.number().int("expected an integer or all").min(1, "expected ≥ 1 or all").max(1e9)]).default(500),
  stage,
  source,
});

export const redriveSchema = z
  .object({
    /** Entries to redrive by id (`kafka:<topic>:<partition>:<offset>`; the older `kafka:<p>:<offset>` means EMBED_DLQ_TOPIC), or `all` of the newest `limit`. */
    ids: z.union([z.literal("all"), z.array(z.string().max(400)).min(1).max(MAX_DLQ_LIMIT)]),
    limit: limit.default(500),
    stage,
    source,
  })
  .strict();
