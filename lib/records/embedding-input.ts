import { z } from "zod";

/**
 * A record on `embedding_input` (SINK_INPUT_TOPIC / EMBED_INPUT_TOPIC), keyed by
 * `doc_id`. Written by the parse stage (Spark job or TypeScript parse worker),
 * read by the embed-worker.
 */
export const embeddingInputSchema = z.object({
  /** Never empty or whitespace-only; never altered (no trimming). */
  text: z.string().min(1),
  /** The topic the raw message came from. */
  topic: z.string(),
  /** Kafka timestamp of the raw message in epoch seconds (ms precision); null when the broker gave none. */
  kafka_ts: z.number().nonnegative().nullable(),
  doc_id: z.string().min(1),
});

export type EmbeddingInput = z.infer<typeof embeddingInputSchema>;

/**
 * The record's Kafka value, byte-exact: compact JSON with keys in the order
 * text, topic, kafka_ts, doc_id, non-ASCII characters written as themselves.
 * (Python: `json.dumps(rec, ensure_ascii=False, separators=(",", ":"))` with
 * the same key order and an integral kafka_ts written as an int.)
 */
export function serializeEmbeddingInput(r: EmbeddingInput): string {
  return JSON.stringify({ text: r.text, topic: r.topic, kafka_ts: r.kafka_ts, doc_id: r.doc_id });
}
