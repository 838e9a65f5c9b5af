"use client";

import type { KnnAnswer } from "@/lib/knn/answer";
import { Card } from "@/components/ui/card";
import { formatLatency } from "@/components/ui/format";
import { downloadFile, toCsv } from "./download";
import { PartialNotice } from "./partial-notice";
import { SearchResult } from "./search-result";
import { SearchEmpty } from "./search-states";

interface Props {
  answer: KnnAnswer;
  /** "more like this" on a result: a query by its doc_id. */
  onMoreLikeThis: (docId: string) => void;
  /** Epoch ms the answer arrived (react-query's dataUpdatedAt): embedded times are counted from it. */
  answeredAt: number;
  /** Vectors the index holds (for the empty state); null when unknown. */
  totalIds?: number | null;
  /** The query had topic, model or shard filters (the empty state suggests dropping them). */
  filtered?: boolean;
}

/** Neighbours with their texts, score bars, "more like this" and download as JSON/CSV. */
export function SearchResults({ answer, onMoreLikeThis, answeredAt, totalIds = null, filtered = false }: Props) {
  const rows = answer.neighbors;
  const instances = answer.instances;
  const indexers = instances.filter((i) => i.ok).length;
  const aside = (
    <>
      <span>{answer.count_scored.toLocaleString("en-US")} scored · {formatLatency(answer.took_ms)}{answer.mode ? ` · ${answer.mode}` : ""}{indexers > 1 ? ` · ${indexers} indexers` : ""}</span>
      <button type="button" className="underline" onClick={() => downloadFile("knn-results.json", JSON.stringify(answer, null, 2), "application/json")} data-testid="download-json">JSON</button>
      <button type="button" className="underline" onClick={() => downloadFile("knn-results.csv", toCsv(rows), "text/csv")} data-testid="download-csv">CSV</button>
    </>
  );
  return (
    <Card title={`${rows.length} neighbours`} aside={aside} data-testid="search-results">
      {answer.partial && <PartialNotice partial={answer.partial} instances={instances} />}
      {rows.length === 0 ? (
        <SearchEmpty totalIds={totalIds} filtered={filtered} />
      ) : (
        <ol className="divide-y divide-line">
          {rows.map((n, i) => (
            <li key={n.doc_id}>
              <SearchResult neighbor={n} rank={i + 1} onMoreLikeThis={onMoreLikeThis} now={answeredAt} />
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}
