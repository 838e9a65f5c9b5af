import type { DlqItem } from "./item";

export const CSV_COLUMNS = ["id", "ts", "reason", "error", "attempts", "model", "doc_id", "topic", "kafka_ts", "source_topic", "source_partition", "source_offset", "replay_count", "text"] as const;

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

export function csvRow(i: DlqItem): string {
  const cells = [i.id, i.ts, i.reason, i.error, i.attempts, i.model, i.doc_id, i.topic, i.kafka_ts, i.source?.topic, i.source?.partition, i.source?.offset, i.replay_count, i.text];
  return `${cells.map(csvCell).join(",")}\r\n`;
}

export function jsonlRow(i: DlqItem): string {
  return `${JSON.stringify({ ...(i.raw && typeof i.raw === "object" ? i.raw : { value: i.raw }), dlq_id: i.id, replay_count: i.replay_count })}\n`;
}
