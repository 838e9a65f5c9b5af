"use client";

import { useMemo, useState } from "react";
import { Card } from "@/components/ui/card";
import { Unavailable } from "@/components/ui/stat";
import type { DlqItem } from "@/lib/dlq/item";
import { DlqTable } from "./dlq-table";
import { useDlqQuery, useRedriveDlqMutation } from "./use-dlq-query";

const btn = "rounded-md border border-line px-2.5 py-1 text-xs hover:bg-surface-2 disabled:opacity-50";

/** Newest N DLQ entries: filter by reason, payload view, server-side download, redrive. */
export function DlqView() {
  const [limit, setLimit] = useState(500);
  const [reason, setReason] = useState("");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<DlqItem | null>(null);
  const { data: answer, error, isFetching, refetch } = useDlqQuery(limit);
  const data = answer && "items" in answer ? answer : undefined;
  const down = answer && "unavailable" in answer ? answer.unavailable.message : error?.message;
  const redrive = useRedriveDlqMutation(limit);
  const reasons = useMemo(() => [...new Set(data?.items.map((i) => i.reason))].sort(), [data]);
  const items = (data?.items ?? []).filter((i) => !reason || i.reason === reason);
  const toggle = (id: string) => setSelected((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; });
  const download = (format: "jsonl" | "csv") => `/api/embed-worker/dlq/download?format=${format}&limit=${limit}`;

  return (
    <div className="grid gap-4" data-testid="dlq-page">
      <h1 className="text-lg font-semibold">Dead-letter queue</h1>
      <div className="flex flex-wrap items-center gap-2 text-xs">
        <label>newest <input type="number" min={1} max={10000} value={limit} onChange={(e) => setLimit(Math.min(10000, Math.max(1, Number(e.target.value) || 1)))} className="w-24 rounded-md border border-line bg-surface px-2 py-1" data-testid="dlq-limit" /></label>
        <select value={reason} onChange={(e) => setReason(e.target.value)} className="rounded-md border border-line bg-surface px-2 py-1" aria-label="reason" data-testid="dlq-reason-filter">
          <option value="">all reasons</option>
          {reasons.map((r) => <option key={r}>{r}</option>)}
        </select>
        <button type="button" className={btn} onClick={() => refetch()} data-testid="dlq-refresh">{isFetching ? "loading…" : "refresh"}</button>
        <a className={btn} href={download("jsonl")} download data-testid="dlq-download-jsonl">download JSONL</a>
        <a className={btn} href={download("csv")} download data-testid="dlq-download-csv">download CSV</a>
        <button type="button" className={btn} disabled={selected.size === 0 || redrive.isPending} onClick={() => redrive.mutate([...selected], { onSuccess: () => setSelected(new Set()) })} data-testid="dlq-redrive-selected">redrive selected ({selected.size})</button>
        <button type="button" className={btn} disabled={!data?.count || redrive.isPending} onClick={() => confirm(`Redrive all ${data?.count} entries?`) && redrive.mutate("all")} data-testid="dlq-redrive-all">redrive all</button>
      </div>
      {redrive.data && <p className="text-xs" data-testid="dlq-redrive-result">redriven {redrive.data.redriven.length}, skipped {redrive.data.skipped.length}{redrive.data.skipped[0] ? ` (${redrive.data.skipped[0].reason})` : ""}</p>}
      {redrive.error && <p className="text-xs text-down">{redrive.error.message}</p>}
      {down && <Unavailable what="DLQ unavailable" message={down} data-testid="dlq-error" />}
      {data && (
        <Card title={`${items.length} of ${data.count} entries`} aside={!data.complete && <span className="text-warn">partial read</span>} data-testid="dlq-list">
          <DlqTable items={items} selected={selected} onToggle={toggle} onOpen={setOpen} />
        </Card>
      )}
      {open && (
        <Card title={`payload ${open.id}`} aside={<button type="button" onClick={() => setOpen(null)}>close</button>} data-testid="dlq-payload">
          <pre className="max-h-96 overflow-auto px-4 py-3 text-xs">{JSON.stringify(open.raw, null, 2)}</pre>
        </Card>
      )}
    </div>
  );
}
