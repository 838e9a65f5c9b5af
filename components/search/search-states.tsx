import Link from "next/link";
import { emptyMessage, searchErrorView } from "./result-view";

/** A failed search: what happened and what to do, with a link when a page can help. */
export function SearchError({ error, "data-testid": testId = "search-error" }: { error: Error; "data-testid"?: string }) {
  const view = searchErrorView(error);
  return (
    <div className="rounded-lg border border-line bg-surface px-4 py-3 text-sm" role="alert" data-testid={testId}>
      <p className="font-medium text-down">{view.title}</p>
      <p className="break-words text-xs text-muted">{view.message}</p>
      {view.hint && (
        <p className="mt-1 text-xs">
          {view.hint.href ? <Link href={view.hint.href} className="text-accent underline">{view.hint.text}</Link> : view.hint.text}
        </p>
      )}
    </div>
  );
}

/** An answer without neighbours, with the index's size and what to try. */
export function SearchEmpty({ totalIds, filtered }: { totalIds: number | null | undefined; filtered: boolean }) {
  return <p className="px-4 py-3 text-sm text-muted" data-testid="search-empty">{emptyMessage(totalIds, filtered)}</p>;
}

/** While the indexer answers. */
export function SearchLoading({ what = "searching…" }: { what?: string }) {
  return <p className="px-4 py-3 text-sm text-muted" role="status" aria-live="polite" data-testid="search-loading">{what}</p>;
}
