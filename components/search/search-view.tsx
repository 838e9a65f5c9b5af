"use client";

import { Unavailable } from "@/components/ui/stat";
import { SearchForm } from "./search-form";
import { SearchResults } from "./search-results";
import { useKnnSearchQuery } from "./use-knn-query";

export function SearchView({ initialDocId }: { initialDocId?: string }) {
  const result = useKnnSearchQuery(initialDocId ? { doc_id: initialDocId, k: 5 } : null);
  return (
    <div className="grid gap-4" data-testid="search-page">
      <h1 className="text-lg font-semibold">Search</h1>
      <SearchForm onSearch={result.search} initial={initialDocId ? { mode: "doc_id", value: initialDocId } : undefined} />
      {result.isFetching && <p className="text-sm text-muted">searching…</p>}
      {result.error && <Unavailable what="search failed" message={result.error.message} data-testid="search-error" />}
      {result.data && <SearchResults answer={result.data} onSearchFrom={(doc_id) => result.search({ doc_id, k: result.request?.k ?? 5 })} />}
    </div>
  );
}
