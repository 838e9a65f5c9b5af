"use client";

import type { DlqCountsEvent } from "@/components/live/stream-types";
import { useStream } from "@/components/live/use-stream";
import { formatCount } from "@/components/ui/format";

/**
 * Entries in the DLQs now (both Kafka DLQ topics: parse, embed and index
 * stages), with the count per stage under it. For the Overview and the
 * embed-worker panel; the page behind it is /dlq.
 */
export function DlqCountStat({ label = "DLQ records", "data-testid": testId }: { label?: string; "data-testid"?: string }) {
  const d = useStream<DlqCountsEvent>("dlq").latest;
  const c = d && "by_stage" in d ? d : undefined;
  const value = c ? `${formatCount(c.total)}${c.complete ? "" : "+"}` : d ? "unreachable" : "—";
  return (
    <div className="min-w-0">
      <dt className="text-[11px] uppercase tracking-wide text-muted break-words">
        <a href="/dlq" className="hover:underline">{label}</a>
      </dt>
      <dd className="mt-0.5 text-base font-semibold tabular-nums break-words" data-testid={testId} title={c && !c.complete ? "still counting: more entries than one read takes" : value}>
        {value}
      </dd>
      {c && (
        <dd className="text-[11px] tabular-nums text-muted break-words" data-testid={testId ? `${testId}-stages` : undefined}>
          parse {formatCount(c.by_stage.parse)} · embed {formatCount(c.by_stage.embed)} · index {formatCount(c.by_stage.index)}
        </dd>
      )}
    </div>
  );
}
