import type { DlqItem } from "./item";

/**
 * The CSV download's columns. The columns before `stage` are in the order they
 * always had; `stage`, `dlq` and the original message's were added at the end,
 * so a sheet that reads columns by position still works.
 */
export const CSV_COLUMNS = [
  "id", "ts", "reason", "error", "attempts", "model", "doc_id", "topic", "kafka_ts", "source_topic", "source_partition", "source_offset", "replay_count", "text",
  "stage", "dlq", "source_timestamp",
  "original_key", "original_key_encoding", "original_value", "original_value_encoding", "original_value_size", "original_value_sha256", "original_truncated", "original_headers",
] as const;

/** One CSV cell: quoted when needed; a leading = + - @ is defused so spreadsheets do not run it as a formula. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s) && typeof value === "string") s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(",")}\r\n`;
}

/** True when any of the original's bytes are only a prefix (too large for a DLQ record). */
export function originalTruncated(o: DlqItem["original"]): boolean | null {
  if (!o) return null;
  return [o.key, o.value, ...o.headers.map((h) => h.value)].some((b) => b?.truncated === true);
}

export function csvRow(i: DlqItem): string {
  const o = i.original;
  const headers = o ? JSON.stringify(o.headers.map((h) => ({ key: h.key, value: h.value?.data ?? null, encoding: h.value?.encoding ?? null }))) : null;
  const cells = [
    i.id, i.ts, i.reason, i.error, i.attempts, i.model, i.doc_id, i.topic, i.kafka_ts, i.source?.topic, i.source?.partition, i.source?.offset, i.replay_count, i.text,
    i.stage, i.dlq, i.source?.timestamp,
    o?.key?.data, o?.key?.encoding, o?.value?.data, o?.value?.encoding, o?.value?.size, o?.value?.sha256, originalTruncated(o), headers,
  ];
  return `${cells.map(csvCell).join(",")}\r\n`;
}

/** The record as stored (its original whole), with where it sits, its stage (recorded or inferred) and its replay count. */
export function jsonlRow(i: DlqItem): string {
  return `${JSON.stringify({ ...(i.raw && typeof i.raw === "object" ? i.raw : { value: i.raw }), dlq_id: i.id, dlq: i.dlq, stage: i.stage, stage_inferred: i.stage_inferred, replay_count: i.replay_count })}\n`;
}

/** The DLQ file's rows in `format`, for lib/download/stream.ts. */
export function dlqRows(format: "jsonl" | "csv"): { row: (i: DlqItem) => string; header?: string } {
  return format === "csv" ? { row: csvRow, header: csvHeader() } : { row: jsonlRow };
}
