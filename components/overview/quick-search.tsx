"use client";

import Link from "next/link";
import { useState, type FormEvent } from "react";
import { PartialNotice } from "@/components/search/partial-notice";
import { SearchResult } from "@/components/search/search-result";
import { SearchEmpty, SearchError, SearchLoading } from "@/components/search/search-states";
import { useIndexSizeQuery, useKnnSearchQuery } from "@/components/search/use-knn-query";
import { Card } from "@/components/ui/card";

/** kNN by text, the five nearest, with their texts; "more like this" asks again by that document. The Search page has every option. */
export function QuickSearch() {
  const [text, setText] = useState("");
  const { data, dataUpdatedAt, error, isFetching, search, request } = useKnnSearchQuery();
  const totalIds = useIndexSizeQuery(data?.neighbors.length === 0);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (text.trim()) search({ text: text.trim(), k: 5 });
  };
  const docId = request?.doc_id;
  return (
    <Card title="Quick search" aside={docId ? <Link href={`/search?doc_id=${encodeURIComponent(docId)}`} className="underline">open in Search</Link> : undefined} data-testid="quick-search">
      <form onSubmit={submit} className="flex gap-2 p-4">
        <input value={text} onChange={(e) => setText(e.target.value)} placeholder="search by meaning" aria-label="quick search" className="flex-1 rounded-md border border-line bg-surface px-2 py-1.5 text-sm" data-testid="quick-search-input" />
        <button type="submit" className="rounded-md bg-accent px-3 py-1.5 text-sm font-medium text-surface" data-testid="quick-search-submit">{isFetching ? "…" : "Search"}</button>
      </form>
      {isFetching && <SearchLoading />}
      {error && !isFetching && <div className="px-4 pb-3"><SearchError error={error} data-testid="quick-search-error" /></div>}
      {data && !isFetching && data.partial && <PartialNotice partial={data.partial} instances={[]} data-testid="quick-search-partial" />}
      {data && !isFetching && data.neighbors.length === 0 && <SearchEmpty totalIds={totalIds} filtered={false} />}
      {data && !isFetching && data.neighbors.length > 0 && (
        <ol className="divide-y divide-line border-t border-line">
          {data.neighbors.map((n, i) => (
            <li key={n.doc_id} data-testid="quick-search-result">
              <SearchResult compact neighbor={n} rank={i + 1} now={dataUpdatedAt} onMoreLikeThis={(doc_id) => search({ doc_id, k: 5 })} />
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}
