import { decodeValue, readValue } from "../../lib/records/decode-value";
import { deriveDocId, explicitDocId } from "../../lib/records/derive-doc-id";
import type { DlqReason } from "../../lib/records/dlq-record";
import { embeddingInputSchema, type EmbeddingInput } from "../../lib/records/embedding-input";
import { isBlankText } from "../../lib/records/extract-text";
import { kafkaTimestampToSeconds } from "../../lib/records/kafka-timestamp";
import { isWellFormedUnicode } from "../../lib/records/well-formed";

/** What could be read of a record that cannot be embedded; the DLQ record carries it. */
export interface PartialInput {
  text: string | null;
  topic: string | null;
  kafka_ts: number | null;
  doc_id: string | null;
}

export type DecodedInput =
  | { ok: true; input: EmbeddingInput }
  | { ok: false; reason: Extract<DlqReason, "invalid_json" | "invalid_unicode" | "empty_text" | "text_too_large">; error: string; partial: PartialInput };

/**
 * One `embedding_input` message → the record to embed, or why it goes to the
 * DLQ. The parse stage normally writes well-formed records; this guards against
 * whatever else lands on the topic. A missing doc_id is derived as the parse
 * stage does (doc_id/id/document_id/key, else sha256(text)); a missing kafka_ts
 * falls back to this message's own timestamp.
 */
export function decodeInput(value: Buffer | null, timestampMs: string | undefined, maxTextBytes: number): DecodedInput {
  const partial: PartialInput = { text: null, topic: null, kafka_ts: kafkaTimestampToSeconds(timestampMs), doc_id: null };
  const fail = (reason: Extract<DecodedInput, { ok: false }>["reason"], error: string): DecodedInput => ({ ok: false, reason, error, partial });

  if (value === null) return fail("empty_text", "message has no value (tombstone)");
  const raw = decodeValue(value);
  if (raw === null) return fail("invalid_unicode", "message value is not valid UTF-8");
  const read = readValue(raw);
  if (read.kind !== "object") return fail("invalid_json", "message value is not a JSON object");
  const f = read.fields;

  if (typeof f.topic === "string") partial.topic = f.topic;
  else if (f.topic !== undefined && f.topic !== null) return fail("invalid_json", "topic is not a string");
  if (typeof f.kafka_ts === "number") partial.kafka_ts = f.kafka_ts;
  else if (f.kafka_ts !== undefined && f.kafka_ts !== null) return fail("invalid_json", "kafka_ts is not a number");

  // The message's own id, when it has a usable one, travels with a DLQ record
  // whatever is wrong with the text, so an operator can tell which document failed.
  const carried = explicitDocId(read);
  if (carried !== null && isWellFormedUnicode(carried)) partial.doc_id = carried;

  if (f.text === undefined || f.text === null) return fail("empty_text", "record has no text");
  if (typeof f.text !== "string") return fail("invalid_json", "text is not a string");
  const text = f.text;
  if (!isWellFormedUnicode(text)) return fail("invalid_unicode", "text contains a lone UTF-16 surrogate");
  // Text travels with its DLQ record (so it can be redriven) unless it is too
  // large to carry; the source offset still points at the original message.
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > maxTextBytes) return fail("text_too_large", `text is ${bytes} UTF-8 bytes, over the limit of ${maxTextBytes}`);
  partial.text = text;
  if (isBlankText(text)) return fail("empty_text", "text is empty or whitespace only");

  const docId = deriveDocId(read, text);
  if (!isWellFormedUnicode(docId)) return fail("invalid_unicode", "doc_id contains a lone UTF-16 surrogate");
  partial.doc_id = docId;

  const parsed = embeddingInputSchema.safeParse({ text, topic: partial.topic ?? "", kafka_ts: partial.kafka_ts, doc_id: docId });
  if (!parsed.success) return fail("invalid_json", parsed.error.issues[0]?.message ?? "not an embedding_input record");
  return { ok: true, input: parsed.data };
}
