"use client";

import { useCallback, useState } from "react";
import { SearchForm } from "./search-form";
import { SearchResults } from "./search-results";
import { SearchError, SearchLoading } from "./search-states";
import { useIndexSizeQuery, useKnnSearchQuery, type KnnRequest } from "./use-knn-query";

/** `/search?doc_id=…` is a query by that document: kept in the URL so a reload or a shared link asks it again. */
function reflectInUrl(q: KnnRequest): void {
  const url = new URL(window.location.href);
  if (q.doc_id !== undefined) url.searchParams.set("doc_id", q.doc_id);
  else url.searchParams.delete("doc_id");
  if (url.href !== window.location.href) window.history.replaceState(window.history.state, "", url);
}

const isFiltered = (q: KnnRequest | null) => Boolean(q && (q.topic || q.model || q.shards || q.embedded_after !== undefined || q.embedded_before !== undefined));

export function SearchView({ initialDocId }: { initialDocId?: string }) {
  const result = useKnnSearchQuery(initialDocId ? { doc_id: initialDocId, k: 5 } : null);
  const { search: run, request } = result;
  const search = useCallback((q: KnnRequest) => {
    reflectInUrl(q);
    run(q);
  }, [run]);
  // "more like this" shows its query in the form: a new form, in doc_id mode.
  const [form, setForm] = useState({ key: 0, initial: initialDocId ? { mode: "doc_id" as const, value: initialDocId } : undefined });
  const moreLikeThis = (doc_id: string) => {
    setForm((f) => ({ key: f.key + 1, initial: { mode: "doc_id", value: doc_id } }));
    search({ doc_id, k: request?.k ?? 5 });
  };
  const empty = result.data?.neighbors.length === 0;
  const totalIds = useIndexSizeQuery(empty);
  return (
    <div className="grid gap-4" data-testid="search-page">
      <h1 className="text-lg font-semibold">Search</h1>
      <SearchForm key={form.key} onSearch={search} initial={form.initial} />
      {result.isFetching && <SearchLoading />}
      {result.error && !result.isFetching && <SearchError error={result.error} />}
      {result.data && !result.isFetching && (
        <SearchResults answer={result.data} answeredAt={result.dataUpdatedAt} totalIds={totalIds} filtered={isFiltered(request)} onMoreLikeThis={moreLikeThis} />
      )}
    </div>
  );
}
