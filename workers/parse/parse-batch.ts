import type { KafkaMessage } from "kafkajs";
import { fitsAlone, recordBytes } from "../../lib/kafka/record-limits";
import type { DlqReason } from "../../lib/records/dlq-record";
import { serializeEmbeddingInput } from "../../lib/records/embedding-input";
import { parseRawMessage } from "../../lib/records/parse-raw-message";
import { parseDlqRecord, serializeParseDlq, type DlqMessage, type Rejection } from "./dlq-record";

/** A v2 record batch's header, as lib/kafka/record-limits.ts counts it (fitsAlone): the error line reports what the broker would see. */
const BATCH_HEADER_BYTES = 61;

export interface OutgoingMessage {
  key: Buffer | string | null;
  value: string;
}

export interface ParsedBatch {
  /** `embedding_input` records, keyed by doc_id, each checked to fit the output topic. */
  records: OutgoingMessage[];
  /** Parse DLQ records, keyed like the message they came from (dlqKey), each fitted to the DLQ topic. */
  dead: DlqMessage[];
  deadByReason: Partial<Record<DlqReason, number>>;
}

export interface IncomingBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
}

export interface BatchLimits {
  /** Largest text accepted, in UTF-8 bytes (PARSE_MAX_TEXT_BYTES). */
  maxTextBytes: number;
  /** The output topic's `max.message.bytes`, as read from the broker. */
  outputMaxMessageBytes: number;
  /** The DLQ topic's `max.message.bytes`, as read from the broker. */
  dlqMaxMessageBytes: number;
  /** The output topic's name, for the too_large error line. */
  outputTopic: string;
}

/**
 * One batch of raw messages → what to produce for it. Pure: no I/O, nothing
 * thrown for bad input. Every embedding_input record is checked as it will be
 * written (key + value + record framing, alone in a record batch) against the
 * output topic's limit: one that does not fit goes to the DLQ as `too_large`
 * with the original bytes, instead of making the broker refuse the batch.
 * Throws DlqTooSmallError only when the DLQ topic cannot take any DLQ record.
 */
export function parseBatch(batch: IncomingBatch, limits: BatchLimits, nowMs: number): ParsedBatch {
  const out: ParsedBatch = { records: [], dead: [], deadByReason: {} };
  for (const message of batch.messages) {
    const result = parseRawMessage(message.value, batch.topic, message.timestamp, { maxTextBytes: limits.maxTextBytes });
    let rejection: Rejection;
    if (result.ok) {
      const record = { key: result.record.doc_id, value: serializeEmbeddingInput(result.record) };
      if (fitsAlone(record, limits.outputMaxMessageBytes)) {
        out.records.push(record);
        continue;
      }
      rejection = {
        reason: "too_large",
        error: `the embedding_input record makes a ${BATCH_HEADER_BYTES + recordBytes(record)}-byte record batch (key, value, framing), over max.message.bytes ${limits.outputMaxMessageBytes} of ${limits.outputTopic}`,
      };
    } else {
      rejection = result;
    }
    out.dead.push(deadLetter(batch, message, rejection, limits.dlqMaxMessageBytes, nowMs));
    out.deadByReason[rejection.reason] = (out.deadByReason[rejection.reason] ?? 0) + 1;
  }
  return out;
}

/** The DLQ message for one raw message of `batch`. */
export function deadLetter(batch: Pick<IncomingBatch, "topic" | "partition">, message: KafkaMessage, rejection: Rejection, dlqMaxMessageBytes: number, nowMs: number, attempts = 1): DlqMessage {
  const source = { topic: batch.topic, partition: batch.partition, offset: message.offset };
  return serializeParseDlq(parseDlqRecord(rejection, source, message.timestamp, nowMs, attempts), message, dlqMaxMessageBytes);
}
