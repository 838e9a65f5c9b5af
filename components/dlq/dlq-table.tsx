"use client";

import { formatClock } from "@/components/ui/format";
import type { DlqItem } from "@/lib/dlq/item";

interface DlqTableProps {
  items: readonly DlqItem[];
  selected: ReadonlySet<string>;
  onToggle: (id: string) => void;
  onOpen: (item: DlqItem) => void;
}

/** DLQ entries, newest first; select for redrive, click to see the original message and the record. */
export function DlqTable({ items, selected, onToggle, onOpen }: DlqTableProps) {
  return (
    <table className="w-full text-left text-xs" data-testid="dlq-table">
      <thead className="text-muted">
        <tr><th className="w-8 px-4 py-1.5" /><th>time</th><th>stage</th><th>reason</th><th>doc_id / source</th><th>error</th><th>replays</th></tr>
      </thead>
      <tbody>
        {items.map((i) => (
          <tr key={i.id} className="cursor-pointer border-t border-line hover:bg-surface-2" onClick={() => onOpen(i)} data-testid="dlq-row" data-id={i.id} data-doc-id={i.doc_id ?? ""} data-stage={i.stage ?? ""} data-original-key={i.original?.key?.encoding === "utf8" ? (i.original.key.data ?? "") : ""}>
            <td className="px-4 py-1.5" onClick={(e) => e.stopPropagation()}>
              <input type="checkbox" aria-label={`select ${i.id}`} checked={selected.has(i.id)} onChange={() => onToggle(i.id)} data-testid="dlq-select" />
            </td>
            <td className="tabular-nums">{i.ts ? formatClock(i.ts * 1000) : "—"}</td>
            <td data-testid="dlq-stage" title={i.stage_inferred ? `inferred from ${i.dlq}: written before stages were recorded` : `in ${i.dlq}`}>
              {i.stage ?? "?"}{i.stage_inferred ? "*" : ""}
            </td>
            <td><span className="rounded bg-down-soft px-1.5 py-0.5 text-down" data-testid="dlq-reason">{i.reason}</span></td>
            <td className="max-w-48 truncate font-mono" title={i.doc_id ?? ""}>
              {i.doc_id ?? (i.source ? `${i.source.topic}[${i.source.partition}]@${i.source.offset}` : "—")}
            </td>
            <td className="max-w-72 truncate" title={i.error ?? ""}>{i.error ?? ""}</td>
            <td className="tabular-nums">{i.replay_count}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
