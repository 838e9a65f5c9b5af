"use client";

import { useMemo, useState } from "react";
import { Card } from "@/components/ui/card";
import { Unavailable } from "@/components/ui/stat";
import type { DlqItem } from "@/lib/dlq/item";
import { DlqOriginal } from "./dlq-original";
import { DlqDownloadNote, DlqPartialNote } from "./dlq-partial-note";
import { DlqTable } from "./dlq-table";
import { dlqParams, useDlqQuery, useRedriveDlqMutation, type DlqFilter, type DlqSource, type DlqStageFilter } from "./use-dlq-query";

const btn = "rounded-md border border-line px-2.5 py-1 text-xs hover:bg-surface-2 disabled:opacity-50";
const field = "rounded-md border border-line bg-surface px-2 py-1";
const STAGES: DlqStageFilter[] = ["", "parse", "embed", "index"];

/** Newest N entries of both DLQs (or RedDB's stream): filter by stage and reason, original message, download, redrive. */
export function DlqView() {
  const [filter, setFilter] = useState<DlqFilter>({ limit: 500, stage: "", source: "kafka" });
  const [reason, setReason] = useState("");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<DlqItem | null>(null);
  const { data: answer, error, isFetching, refetch } = useDlqQuery(filter);
  const data = answer && "items" in answer ? answer : undefined;
  const down = answer && "unavailable" in answer ? answer.unavailable.message : error?.message;
  const redrive = useRedriveDlqMutation(filter);
  const reasons = useMemo(() => [...new Set(data?.items.map((i) => i.reason))].sort(), [data]);
  const items = (data?.items ?? []).filter((i) => !reason || i.reason === reason);
  const toggle = (id: string) => setSelected((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; });
  const change = (f: Partial<DlqFilter>) => { setFilter((old) => ({ ...old, ...f })); setSelected(new Set()); };
  const download = (format: "jsonl" | "csv") => `/api/embed-worker/dlq/download?format=${format}&${dlqParams(filter)}`;
  const skip = redrive.data?.skipped[0];

  return (
    <div className="grid gap-4" data-testid="dlq-page">
      <h1 className="text-lg font-semibold">Dead-letter queues</h1>
      <div className="flex flex-wrap items-center gap-2 text-xs">
        <label>newest <input type="number" min={1} max={10000} value={filter.limit} onChange={(e) => change({ limit: Math.min(10000, Math.max(1, Number(e.target.value) || 1)) })} className={`w-24 ${field}`} data-testid="dlq-limit" /></label>
        <select value={filter.stage} onChange={(e) => change({ stage: e.target.value as DlqStageFilter })} className={field} aria-label="stage" data-testid="dlq-stage-filter">
          {STAGES.map((s) => <option key={s} value={s}>{s || "all stages"}</option>)}
        </select>
        <select value={reason} onChange={(e) => setReason(e.target.value)} className={field} aria-label="reason" data-testid="dlq-reason-filter">
          <option value="">all reasons</option>
          {reasons.map((r) => <option key={r}>{r}</option>)}
        </select>
        {data?.sources.includes("reddb") && (
          <select value={filter.source} onChange={(e) => change({ source: e.target.value as DlqSource })} className={field} aria-label="source" data-testid="dlq-source-filter">
            <option value="kafka">Kafka DLQ topics</option>
            <option value="reddb">RedDB DLQ stream</option>
          </select>
        )}
        <button type="button" className={btn} onClick={() => refetch()} data-testid="dlq-refresh">{isFetching ? "loading…" : "refresh"}</button>
        <a className={btn} href={download("jsonl")} download data-testid="dlq-download-jsonl">download JSONL</a>
        <a className={btn} href={download("csv")} download data-testid="dlq-download-csv">download CSV</a>
        <DlqDownloadNote filter={filter} />
        <button type="button" className={btn} disabled={selected.size === 0 || redrive.isPending} onClick={() => redrive.mutate([...selected], { onSuccess: () => setSelected(new Set()) })} data-testid="dlq-redrive-selected">redrive selected ({selected.size})</button>
        <button type="button" className={btn} disabled={items.length === 0 || redrive.isPending} onClick={() => confirm(`Redrive all ${items.length} entries shown?`) && redrive.mutate(reason ? items.map((i) => i.id) : "all")} data-testid="dlq-redrive-all">redrive all shown</button>
      </div>
      {redrive.data && (
        <p className="text-xs" data-testid="dlq-redrive-result">
          redriven {redrive.data.redriven.length}, skipped {redrive.data.skipped.length}{skip ? ` (${skip.reason}${skip.detail ? `: ${skip.detail}` : ""})` : ""}
          {redrive.data.partial && <span className="text-warn" data-testid="dlq-redrive-partial"> — read was partial: {redrive.data.partial.message}</span>}
        </p>
      )}
      {redrive.error && <p className="text-xs text-down">{redrive.error.message}</p>}
      {down && <Unavailable what="DLQ unavailable" message={down} data-testid="dlq-error" />}
      {data?.partial && <DlqPartialNote partial={data.partial} />}
      {data && (
        <Card title={`${items.length} of ${data.count} entries`} aside={<><span data-testid="dlq-source">{data.source}</span>{!data.complete && <span className="text-warn">partial read</span>}</>} data-testid="dlq-list">
          <DlqTable items={items} selected={selected} onToggle={toggle} onOpen={setOpen} />
          {items.some((i) => i.stage_inferred) && <p className="px-4 py-2 text-[11px] text-muted">* stage inferred from the DLQ it sits in: written before stages were recorded.</p>}
        </Card>
      )}
      {open && (
        <Card title={`${open.stage ?? "?"} · ${open.reason} · ${open.id}`} aside={<button type="button" onClick={() => setOpen(null)}>close</button>} data-testid="dlq-payload">
          <DlqOriginal item={open} />
          <details className="border-t border-line px-4 py-2 text-xs" open={!open.original}>
            <summary className="cursor-pointer">DLQ record</summary>
            <pre className="max-h-96 overflow-auto py-2" data-testid="dlq-record">{JSON.stringify(open.raw, null, 2)}</pre>
          </details>
        </Card>
      )}
    </div>
  );
}
