import type { KnnNeighbor } from "@/lib/knn/answer";

/** Save `content` as a file from the browser. */
export function downloadFile(name: string, content: string, type: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

const cell = (v: unknown) => {
  const s = v === null || v === undefined ? "" : String(v);
  const safe = /^[=+\-@]/.test(s) && typeof v === "string" ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

export function toCsv(rows: readonly KnnNeighbor[]): string {
  const head = "rank,doc_id,score,model,topic,embedded_ts,text,text_truncated,text_len,text_stored\r\n";
  return head + rows.map((r, i) => [i + 1, r.doc_id, r.score, r.model, r.topic, r.embedded_ts, r.text, r.text_truncated, r.text_len, r.text_stored].map(cell).join(",")).join("\r\n");
}
