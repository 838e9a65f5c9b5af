"use client";

import { Card } from "@/components/ui/card";
import { formatClock } from "@/components/ui/format";
import { Unavailable } from "@/components/ui/stat";
import { TopicsTable } from "./topics-table";
import { useTopicsQuery } from "./use-topics-query";

/** `/topics`: every topic of the pipeline, each opening its messages. */
export function TopicsView() {
  const { data: answer, error, isPending, isFetching, refetch } = useTopicsQuery();
  const data = answer && "topics" in answer ? answer : undefined;
  const down = answer && "unavailable" in answer ? answer.unavailable.message : error?.message;
  return (
    <div className="grid gap-4" data-testid="topics-page">
      <div className="flex items-baseline gap-3">
        <h1 className="text-lg font-semibold">Topics</h1>
        <button type="button" className="ml-auto rounded-md border border-line px-2.5 py-1 text-xs hover:bg-surface-2" onClick={() => refetch()} data-testid="topics-refresh">{isFetching ? "loading…" : "refresh"}</button>
      </div>
      {isPending && <p className="text-sm text-muted" role="status" data-testid="topics-loading">reading the topics…</p>}
      {down && <Unavailable what="Kafka unavailable" message={down} data-testid="topics-error" />}
      {data && (
        <Card title={`${data.topics.length} topics`} aside={<span title="when the figures were read">as of {formatClock(data.timestamp * 1000)}</span>} data-testid="topics-list">
          <TopicsTable topics={data.topics} />
          <p className="border-t border-line px-4 py-2 text-[11px] text-muted">Records a read_committed consumer gets (transaction markers and aborted records not counted); ≈ where a partition holds too many offsets to count. Size: every replica on disk.</p>
        </Card>
      )}
    </div>
  );
}
