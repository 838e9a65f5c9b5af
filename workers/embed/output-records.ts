import type { EmbeddingRow } from "../../lib/parquet";
import type { DlqReason, DlqRecord } from "../../lib/records/dlq-record";
import type { EmbeddingInput } from "../../lib/records/embedding-input";
import { sha256Hex } from "../../lib/records/sha256";
import type { PartialInput } from "./decode-input";

export interface Source {
  topic: string;
  partition: number;
  offset: string;
  /** The input message's Kafka timestamp, epoch seconds (DLQ records keep it). */
  timestamp?: number | null;
}

/**
 * The raw text, or — with EMBED_STORE_TEXT=0 (seed 004's PII minimisation) —
 * its sha256 and length in characters instead, in every sink.
 */
export function textFields(text: string, storeText: boolean): { text: string } | { text_sha256: string; text_len: number } {
  return storeText ? { text } : { text_sha256: sha256Hex(text), text_len: [...text].length };
}

/** The emitted record (ARCHITECTURE.md), keys in the contract's order, plus where it came from for Parquet. */
export function embeddingRow(input: EmbeddingInput, vector: number[], model: string, normalized: boolean, storeText: boolean, source: Source, embeddedTs: number): EmbeddingRow {
  return {
    topic: input.topic === "" ? null : input.topic,
    ...textFields(input.text, storeText),
    doc_id: input.doc_id,
    vector,
    kafka_ts: input.kafka_ts,
    embedded_ts: embeddedTs,
    model,
    dim: vector.length,
    normalized,
    source_partition: source.partition,
    source_offset: source.offset,
  };
}

export type EmbeddingMessage = Omit<EmbeddingRow, "source_partition" | "source_offset">;

/** The Kafka/RedDB form of a row: the contract's fields only. */
export function embeddingMessage(row: EmbeddingRow): EmbeddingMessage {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { source_partition, source_offset, ...record } = row;
  return record;
}

/**
 * The record as JSON, with `vectorJson` — the upstream's own text of the same
 * numbers (lib/embedding/vector-json.ts) — in place of formatting the vector
 * again. `"vector":` occurs once in the output: inside a JSON string a quote is
 * always escaped, so that sequence can only be the key.
 */
export function embeddingJson(record: EmbeddingMessage, vectorJson: string | undefined): string {
  if (vectorJson === undefined) return JSON.stringify(record);
  const json = JSON.stringify({ ...record, vector: 0 });
  const at = json.indexOf('"vector":0') + '"vector":'.length;
  return json.slice(0, at) + vectorJson + json.slice(at + 1);
}

export function dlqRecord(
  partial: PartialInput,
  failure: { reason: DlqReason; error: string; attempts: number; model: string | null },
  storeText: boolean,
  source: Source,
  ts: number,
): DlqRecord | (Omit<DlqRecord, "text"> & { text: null; text_sha256: string | null; text_len: number | null }) {
  const base = {
    topic: partial.topic,
    kafka_ts: partial.kafka_ts,
    doc_id: partial.doc_id,
    reason: failure.reason,
    error: failure.error,
    attempts: failure.attempts,
    ts,
    model: failure.model,
    source: { topic: source.topic, partition: source.partition, offset: source.offset, timestamp: source.timestamp ?? null },
    stage: "embed" as const,
  };
  if (storeText) return { text: partial.text, ...base };
  const hidden = partial.text === null ? { text_sha256: null, text_len: null } : (textFields(partial.text, false) as { text_sha256: string; text_len: number });
  return { text: null, ...hidden, ...base };
}
