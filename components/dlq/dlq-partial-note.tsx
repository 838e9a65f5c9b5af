"use client";

import { downloadPartial, type DlqPartial } from "@/lib/dlq/partial";
import type { DlqFilter } from "./use-dlq-query";

/** The list holds only part of what was asked: say how much and why, where the operator looks at the count. */
export function DlqPartialNote({ partial }: { partial: DlqPartial }) {
  return (
    <p className="rounded-md border border-warn bg-warn-soft px-3 py-1.5 text-xs text-warn" role="status" data-testid="dlq-partial" data-reason={partial.reason} data-limit={partial.limit}>
      Partial answer: {partial.message}.
    </p>
  );
}

/** Before the operator clicks: a download of this filter will be cut by its source (known from the query alone). */
export function DlqDownloadNote({ filter }: { filter: DlqFilter }) {
  const partial = downloadPartial(filter);
  if (!partial) return null;
  return (
    <span className="text-warn" data-testid="dlq-download-partial" data-limit={partial.limit}>
      downloads hold the newest {partial.limit.toLocaleString("en-US")} only: RedDB returns at most {partial.limit.toLocaleString("en-US")} entries per read
    </span>
  );
}
