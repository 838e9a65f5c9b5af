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
} as const;

export type DlqReason = keyof typeof DLQ_REASONS;

export const dlqReasonSchema = z.enum(Object.keys(DLQ_REASONS) as [DlqReason, ...DlqReason[]]);

/** Where the failed message was read from. Offsets are int64: kept as decimal strings, as kafkajs gives them. */
export const dlqSourceSchema = z.object({
  topic: z.string(),
  partition: z.number().int().nonnegative(),
  offset: z.string().regex(/^\d+$/, "offset must be a decimal string"),
});

/**
 * A DLQ record (Kafka EMBED_DLQ_TOPIC, RedDB REDDB_DLQ_STREAM): the input
 * fields (null when the failure came before they could be derived), plus why,
 * how often it was tried, when, with which model, and where it came from.
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
});

export type DlqRecord = z.infer<typeof dlqRecordSchema>;
