"use client";

import type { KnnAnswer } from "@/app/api/knn/query/schema";
import { Card } from "@/components/ui/card";
import { formatLatency } from "@/components/ui/format";
import { downloadFile, toCsv } from "./download";

/** Neighbours with score bars, "search from this result" and download as JSON/CSV. */
export function SearchResults({ answer, onSearchFrom }: { answer: KnnAnswer; onSearchFrom: (docId: string) => void }) {
  const rows = answer.neighbors;
  const aside = (
    <>
      <span>{answer.count_scored} scored · {formatLatency(answer.took_ms)}{answer.mode ? ` · ${answer.mode}` : ""}</span>
      <button type="button" className="underline" onClick={() => downloadFile("knn-results.json", JSON.stringify(answer, null, 2), "application/json")} data-testid="download-json">JSON</button>
      <button type="button" className="underline" onClick={() => downloadFile("knn-results.csv", toCsv(rows), "text/csv")} data-testid="download-csv">CSV</button>
    </>
  );
  return (
    <Card title={`${rows.length} neighbours`} aside={aside} data-testid="search-results">
      <ol className="divide-y divide-line">
        {rows.map((n, i) => (
          <li key={n.doc_id} className="flex items-center gap-3 px-4 py-2 text-sm" data-testid="search-result">
            <span className="w-6 text-right text-xs text-muted">{i + 1}</span>
            <span className="min-w-0 flex-1 truncate font-mono text-xs" data-testid="result-doc-id" title={n.doc_id}>{n.doc_id}</span>
            <span className="hidden text-xs text-muted sm:inline">{n.topic ?? ""} {n.model ?? ""}</span>
            <span className="flex w-40 items-center gap-2" title={`cosine ${n.score}`}>
              <span className="h-1.5 flex-1 rounded bg-surface-2"><span className="block h-1.5 rounded bg-accent" style={{ width: `${Math.max(0, Math.min(1, n.score)) * 100}%` }} /></span>
              <span className="w-12 text-right font-mono text-xs tabular-nums" data-testid="result-score">{n.score.toFixed(3)}</span>
            </span>
            <button type="button" className="text-xs text-accent underline" onClick={() => onSearchFrom(n.doc_id)} data-testid="search-from">search from this</button>
          </li>
        ))}
      </ol>
    </Card>
  );
}
