import type { KafkaMessage } from "kafkajs";
import type { DlqReason, DlqRecord } from "../../lib/records/dlq-record";
import { dlqKey, serializeDlqWithOriginal } from "../../lib/records/dlq-original";
import { kafkaTimestampToSeconds } from "../../lib/records/kafka-timestamp";
import { payloadBudget } from "../../lib/kafka/record-limits";

export interface DlqSource {
  topic: string;
  partition: number;
  /** int64 offset as the decimal string kafkajs gives. */
  offset: string;
}

export interface Rejection {
  reason: DlqReason;
  /** One line, never the text. */
  error: string;
}

/**
 * The parse stage's DLQ record, without `original` (serializeParseDlq attaches
 * it). The input fields are null: the text is not carried (it may be
 * megabytes, or not valid Unicode) and the doc_id is derived only after the
 * checks that failed — or, for `too_large`/`unprocessable`, would duplicate
 * what `original` holds and could itself be over the DLQ topic's limit.
 * `source` points at the message itself. spark/embedline_parse/rules.py writes
 * the same fields in the same order (the shared vectors compare the bytes).
 */
export function parseDlqRecord(rejection: Rejection, source: DlqSource, timestampMs: string | null | undefined, nowMs: number, attempts = 1): DlqRecord {
  const kafkaTs = kafkaTimestampToSeconds(timestampMs);
  return {
    text: null,
    topic: source.topic,
    kafka_ts: kafkaTs,
    doc_id: null,
    reason: rejection.reason,
    error: rejection.error,
    // Parsing is deterministic: a second attempt would fail the same way (unprocessable says how often it was tried).
    attempts,
    ts: nowMs / 1000,
    model: null,
    source: { topic: source.topic, partition: source.partition, offset: source.offset, timestamp: kafkaTs },
    stage: "parse",
  };
}

/** A DLQ record ready to produce: under the source message's key (when short), with the original attached and fitted to the DLQ topic's limit. */
export interface DlqMessage {
  key: Buffer | string | null;
  value: string;
}

/**
 * The record with `original` (the message's exact key, value and headers)
 * as JSON that fits, with its key, in one record batch under the DLQ topic's
 * `max.message.bytes`. Throws DlqTooSmallError when even the record without
 * its original cannot fit (a misconfigured DLQ topic).
 */
export function serializeParseDlq(record: DlqRecord, message: Pick<KafkaMessage, "key" | "value" | "headers">, dlqMaxMessageBytes: number): DlqMessage {
  const key = dlqKey(message.key);
  const budget = payloadBudget(dlqMaxMessageBytes) - (key === null ? 0 : Buffer.byteLength(key));
  try {
    return { key, value: serializeDlqWithOriginal(record, { key: message.key, value: message.value, headers: message.headers }, budget) };
  } catch (err) {
    throw new DlqTooSmallError(dlqMaxMessageBytes, err as Error);
  }
}

/** The DLQ topic's limit leaves no room for a DLQ record: nothing can be dead-lettered until it is raised. */
export class DlqTooSmallError extends Error {
  constructor(
    readonly maxMessageBytes: number,
    cause: Error,
  ) {
    super(`the DLQ topic's max.message.bytes (${maxMessageBytes}) is too small for a DLQ record`, { cause });
    this.name = "DlqTooSmallError";
  }
}
