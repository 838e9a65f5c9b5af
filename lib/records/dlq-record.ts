import { z } from "zod";

/**
 * Why a record went to the dead-letter queue. Short, stable codes: operators
 * filter on them and the Python parse job emits the same ones.
 */
export const DLQ_REASONS = {
  /** An `embedding_input` value that is not JSON or not an embedding_input record. */
  invalid_json: "not valid JSON or not the expected record",
  /** Raw bytes that are not valid UTF-8, or text / doc_id holding a lone UTF-16 surrogate (from a `\ud800`-style JSON escape). */
  invalid_unicode: "not valid Unicode",
  /** No value (a tombstone), or text that is empty or whitespace only. */
  empty_text: "no text to embed",
  /** Text longer than the byte limit (UTF-8 bytes). */
  text_too_large: "text over the byte limit",
  /** The embedding service refused the input (a 4xx other than 429). */
  provider_rejected: "the embedding service refused the input",
  /** The service answered with a vector that is empty, the wrong length or not finite. */
  bad_vector: "the embedding service returned an unusable vector",
  /** Retryable failures went on past the retry budget. */
  retries_exhausted: "embedding kept failing after all retries",
  /** The record this stage would write is larger than its output topic's `max.message.bytes` (as read from the broker). */
  too_large: "the output record is over the topic's size limit",
  /** A doc_id a sink cannot store (over its key limit). */
  doc_id_too_long: "doc_id over a sink's key limit",
  /** An embedding record of another model (or dimension) than the index holds: vectors of two models are not comparable, so it is never indexed (index stage). */
  model_mismatch: "a vector of another model than the index holds",
  /** A failure that could not be classified kept happening past a bounded number of attempts. */
  unprocessable: "kept failing for an unknown reason",
} as const;

export type DlqReason = keyof typeof DLQ_REASONS;

export const dlqReasonSchema = z.enum(Object.keys(DLQ_REASONS) as [DlqReason, ...DlqReason[]]);

/** Where the failed message was read from. Offsets are int64: kept as decimal strings, as kafkajs gives them. */
export const dlqSourceSchema = z.object({
  topic: z.string(),
  partition: z.number().int().nonnegative(),
  offset: z.string().regex(/^\d+$/, "offset must be a decimal string"),
  /** The source record's Kafka timestamp, epoch seconds (absent in entries written before it was kept). */
  timestamp: z.number().nullable().optional(),
});

/** The stage that dead-lettered a record: which worker to look at, and what a redrive feeds. */
export const DLQ_STAGES = ["parse", "embed", "index"] as const;
export type DlqStage = (typeof DLQ_STAGES)[number];

/**
 * Some bytes of the original message. `data` is the bytes as UTF-8 text when
 * they are valid UTF-8 and not truncated, otherwise base64; null when withheld
 * on purpose (EMBED_STORE_TEXT=0). `size` and `sha256` are of the whole
 * original, so a truncated prefix can still be matched against its source.
 */
export const dlqBytesSchema = z.object({
  data: z.string().nullable(),
  encoding: z.enum(["utf8", "base64"]),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** `data` holds only a prefix: the whole did not fit in a DLQ record. */
  truncated: z.boolean(),
});
export type DlqBytes = z.infer<typeof dlqBytesSchema>;

/**
 * The message exactly as it arrived, as Kafka Connect's dead-letter queue keeps
 * it: the evidence outlives the source topic's retention, and a redrive
 * re-sends these bytes. Null key or value: the message had none.
 */
export const dlqOriginalSchema = z.object({
  key: dlqBytesSchema.nullable(),
  value: dlqBytesSchema.nullable(),
  headers: z.array(z.object({ key: z.string(), value: dlqBytesSchema.nullable() })),
});
export type DlqOriginal = z.infer<typeof dlqOriginalSchema>;

/**
 * A DLQ record (Kafka PARSE_DLQ_TOPIC and EMBED_DLQ_TOPIC, RedDB
 * REDDB_DLQ_STREAM): the input fields (null when the failure came before they
 * could be derived), plus why, how often it was tried, when, with which model,
 * which stage, where it came from and the original message itself
 * (lib/records/dlq-original.ts builds and fits it).
 */
export const dlqRecordSchema = z.object({
  text: z.string().nullable(),
  topic: z.string().nullable(),
  kafka_ts: z.number().nonnegative().nullable(),
  doc_id: z.string().nullable(),
  reason: dlqReasonSchema,
  /** One line, no secrets, no text. */
  error: z.string().regex(/^[^\r\n]*$/, "error must be one line"),
  attempts: z.number().int().nonnegative(),
  /** When the record was dead-lettered, epoch seconds. */
  ts: z.number().nonnegative(),
  /** Null when the failure came before any model was involved (parse stage). */
  model: z.string().nullable(),
  source: dlqSourceSchema,
  /** Absent only in entries written before stages were recorded (the reader infers it from the source topic). */
  stage: z.enum(DLQ_STAGES).optional(),
  /** Absent only in entries written before originals were kept. */
  original: dlqOriginalSchema.optional(),
});

export type DlqRecord = z.infer<typeof dlqRecordSchema>;
