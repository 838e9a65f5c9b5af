"use client";

import type { KnnNeighbor } from "@/lib/knn/answer";
import { CopyButton } from "./copy-button";
import { absoluteTime, textView, timeAgo } from "./result-view";

interface Props {
  neighbor: KnnNeighbor;
  rank: number;
  /** "more like this": a query by this result's doc_id. */
  onMoreLikeThis: (docId: string) => void;
  /** Epoch ms the relative time is counted from (the answer's arrival). */
  now: number;
  /** At most three lines of text (the Overview's quick search); the full snippet in its tooltip. */
  compact?: boolean;
}

/** One neighbour: its text (or why there is none), then doc_id, topic, model, score, embedded time, and "more like this". */
export function SearchResult({ neighbor: n, rank, onMoreLikeThis, now, compact = false }: Props) {
  const view = textView(n);
  return (
    <article className="grid gap-1.5 px-4 py-3 text-sm" data-testid="search-result" data-doc-id={n.doc_id}>
      <div className="flex gap-3">
        <span className="w-6 shrink-0 text-right text-xs text-muted">{rank}</span>
        {view.kind === "text" ? (
          <p className={`min-w-0 flex-1 whitespace-pre-wrap break-words ${compact ? "line-clamp-3" : ""}`} title={compact ? view.text : undefined} data-testid="search-result-text" data-truncated={view.truncated}>
            {view.text}
            {view.truncated && <span className="text-muted" title={view.length === null ? "cut: only the first 300 characters are kept" : `cut: the first 300 of ${view.length.toLocaleString("en-US")} characters`}>…</span>}
          </p>
        ) : (
          <p className="min-w-0 flex-1 italic text-muted" data-testid="search-result-text" data-missing={view.reason}>{view.message}</p>
        )}
      </div>
      <div className="ml-9 flex flex-wrap items-center gap-x-3 gap-y-1 text-xs text-muted">
        <span className="flex items-center gap-1">
          {/* Cut by CSS, not in the text: the DOM (selection, e2e checks) keeps the whole doc_id, a 64-digit hash shows its first ~20. */}
          <span className="inline-block max-w-[13rem] truncate align-bottom font-mono" data-testid="result-doc-id" title={n.doc_id}>{n.doc_id}</span>
          <CopyButton value={n.doc_id} data-testid="copy-doc-id" />
        </span>
        {n.topic && <span title="source topic">{n.topic}</span>}
        {n.model && <span title="model">{n.model}</span>}
        {typeof n.embedded_ts === "number" && <time dateTime={absoluteTime(n.embedded_ts)} title={`embedded ${absoluteTime(n.embedded_ts)}`} data-testid="result-embedded">{timeAgo(n.embedded_ts, now)}</time>}
        <span className="flex w-36 items-center gap-2" title={`cosine ${n.score}`}>
          <span className="h-1.5 flex-1 rounded bg-surface-2"><span className="block h-1.5 rounded bg-accent" style={{ width: `${Math.max(0, Math.min(1, n.score)) * 100}%` }} /></span>
          <span className="w-12 text-right font-mono tabular-nums text-fg" data-testid="result-score">{n.score.toFixed(3)}</span>
        </span>
        <button type="button" className="text-accent underline" onClick={() => onMoreLikeThis(n.doc_id)} data-testid="more-like-this">more like this</button>
      </div>
    </article>
  );
}
