import type { DlqRecord } from "../../lib/records/dlq-record";
import type { ParseResult } from "../../lib/records/parse-raw-message";

type Rejection = Extract<ParseResult, { ok: false }>;

export interface DlqSource {
  topic: string;
  partition: number;
  /** int64 offset as the decimal string kafkajs gives. */
  offset: string;
}

/**
 * The parse stage's DLQ record. The input fields it cannot vouch for are
 * null: the text is not carried (it may be megabytes, or not valid Unicode),
 * and the doc_id is derived only after the checks that failed. `source` points
 * at the message itself. spark/embedline_parse/rules.py writes the same fields
 * in the same order (tests compare the two, `ts` aside).
 */
export function parseDlqRecord(rejection: Rejection, source: DlqSource, kafkaTs: number | null, nowMs: number): DlqRecord {
  return {
    text: null,
    topic: source.topic,
    kafka_ts: kafkaTs,
    doc_id: null,
    reason: rejection.reason,
    error: rejection.error,
    // Parsing is deterministic: a second attempt would fail the same way.
    attempts: 1,
    ts: nowMs / 1000,
    model: null,
    source: { topic: source.topic, partition: source.partition, offset: source.offset },
  };
}

/** Compact JSON with the contract's key order (the record is built in that order). */
export function serializeDlqRecord(record: DlqRecord): string {
  return JSON.stringify(record);
}
