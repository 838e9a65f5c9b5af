import type { KafkaMessage } from "kafkajs";
import type { DlqReason } from "../../lib/records/dlq-record";
import { serializeEmbeddingInput } from "../../lib/records/embedding-input";
import { kafkaTimestampToSeconds } from "../../lib/records/kafka-timestamp";
import { parseRawMessage } from "../../lib/records/parse-raw-message";
import { parseDlqRecord, serializeDlqRecord } from "./dlq-record";

export interface OutgoingMessage {
  key: Buffer | string | null;
  value: string;
}

export interface ParsedBatch {
  /** `embedding_input` records, keyed by doc_id. */
  records: OutgoingMessage[];
  /** Parse DLQ records, keyed like the message they came from. */
  dead: OutgoingMessage[];
  deadByReason: Partial<Record<DlqReason, number>>;
}

export interface IncomingBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
}

/** One batch of raw messages → what to produce for it. Pure: no I/O, nothing thrown for bad input. */
export function parseBatch(batch: IncomingBatch, maxTextBytes: number, nowMs: number): ParsedBatch {
  const out: ParsedBatch = { records: [], dead: [], deadByReason: {} };
  for (const message of batch.messages) {
    const result = parseRawMessage(message.value, batch.topic, message.timestamp, { maxTextBytes });
    if (result.ok) {
      out.records.push({ key: result.record.doc_id, value: serializeEmbeddingInput(result.record) });
      continue;
    }
    const source = { topic: batch.topic, partition: batch.partition, offset: message.offset };
    const record = parseDlqRecord(result, source, kafkaTimestampToSeconds(message.timestamp), nowMs);
    out.dead.push({ key: message.key, value: serializeDlqRecord(record) });
    out.deadByReason[result.reason] = (out.deadByReason[result.reason] ?? 0) + 1;
  }
  return out;
}

/**
 * Split messages into runs of at most `maxBytes` (keys + values), so no produce
 * request builds a record batch the broker refuses (message.max.bytes, 1 MiB by
 * default). kafkajs does not split by size itself. A single larger message
 * still goes alone.
 */
export function chunkBySize(messages: OutgoingMessage[], maxBytes: number): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let size = 0;
  for (const m of messages) {
    const bytes = Buffer.byteLength(m.value) + (m.key === null ? 0 : Buffer.byteLength(m.key)) + RECORD_OVERHEAD_BYTES;
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Per-record framing in a v2 record batch (varints, attributes, deltas): at most ~20 bytes without headers. */
const RECORD_OVERHEAD_BYTES = 24;
