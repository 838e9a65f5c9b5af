"use client";

import { useState, type FormEvent } from "react";
import { useKnnSearchQuery } from "@/components/search/use-knn-query";
import { Card } from "@/components/ui/card";

/** kNN by text, the five nearest; the Search page has every option. */
export function QuickSearch() {
  const [text, setText] = useState("");
  const { data, error, isFetching, search } = useKnnSearchQuery();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (text.trim()) search({ text: text.trim(), k: 5 });
  };
  return (
    <Card title="Quick search" data-testid="quick-search">
      <form onSubmit={submit} className="flex gap-2 p-4">
        <input value={text} onChange={(e) => setText(e.target.value)} placeholder="search by meaning" aria-label="quick search" className="flex-1 rounded-md border border-line bg-surface px-2 py-1.5 text-sm" data-testid="quick-search-input" />
        <button type="submit" className="rounded-md bg-accent px-3 py-1.5 text-sm font-medium text-surface" data-testid="quick-search-submit">{isFetching ? "…" : "Search"}</button>
      </form>
      {error && <p className="px-4 pb-3 text-xs text-down" data-testid="quick-search-error">{error.message}</p>}
      {data && (
        <ol className="px-4 pb-3 text-sm">
          {data.neighbors.map((n) => (
            <li key={n.doc_id} className="flex justify-between gap-2 py-0.5" data-testid="quick-search-result">
              <span className="truncate font-mono text-xs">{n.doc_id}</span>
              <span className="font-mono text-xs tabular-nums">{n.score.toFixed(3)}</span>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}
