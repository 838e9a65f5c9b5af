"use client";

import type { DlqItem, ShownBytes } from "@/lib/dlq/item";

/** Data longer than this starts folded. */
const FOLD_CHARS = 200;

function Bytes({ b, "data-testid": testId }: { b: ShownBytes | null; "data-testid"?: string }) {
  if (!b) return <span className="text-muted" data-testid={testId}>none</span>;
  const facts = (
    <span className="text-muted">
      {b.encoding === "base64" ? <span className="mr-1 rounded bg-warn-soft px-1 text-warn" data-testid="dlq-original-base64">base64</span> : "text"} · {b.size} bytes · sha256 <span className="font-mono" title={b.sha256}>{b.sha256.slice(0, 12)}…</span>
      {b.truncated && <span className="ml-1 rounded bg-down-soft px-1 text-down" data-testid="dlq-original-truncated">truncated: only a prefix was kept</span>}
      {b.clipped && <span className="ml-1" data-testid="dlq-original-clipped">(cut in this view; the download has what was kept)</span>}
    </span>
  );
  if (b.data === null) return <span data-testid={testId}><span className="mr-1 text-warn">withheld</span>{facts}</span>;
  const body = <pre className="mt-1 max-h-72 overflow-auto whitespace-pre-wrap break-all rounded bg-surface-2 px-2 py-1 font-mono" data-testid={testId ? `${testId}-data` : undefined}>{b.data}</pre>;
  return (
    <div data-testid={testId} data-encoding={b.encoding} data-truncated={String(b.truncated)}>
      {b.data.length > FOLD_CHARS ? <details><summary className="cursor-pointer">{facts} <span className="text-accent">show</span></summary>{body}</details> : <>{facts}{body}</>}
    </div>
  );
}

/** The message as it arrived at the stage: the evidence, and what a redrive re-sends. */
export function DlqOriginal({ item }: { item: DlqItem }) {
  const o = item.original;
  if (!o) return <p className="px-4 py-2 text-xs text-muted" data-testid="dlq-original-none">No original kept (written before originals were); a redrive rebuilds it from the text.</p>;
  return (
    <div className="grid gap-2 px-4 py-3 text-xs" data-testid="dlq-original">
      <p className="text-muted">
        from {item.source ? `${item.source.topic} [${item.source.partition}] @ ${item.source.offset}` : "an unknown source"}
        {item.source?.timestamp ? `, ${new Date(item.source.timestamp * 1000).toISOString()}` : ""}
      </p>
      <div><span className="font-medium">key </span><Bytes b={o.key} data-testid="dlq-original-key" /></div>
      <div><span className="font-medium">value </span><Bytes b={o.value} data-testid="dlq-original-value" /></div>
      <div>
        <span className="font-medium">headers </span>{o.headers.length === 0 && <span className="text-muted">none</span>}
        <ul className="grid gap-1 pl-3">
          {o.headers.map((h, i) => <li key={`${h.key}-${i}`} data-testid="dlq-original-header"><span className="font-mono">{h.key}</span> <Bytes b={h.value} /></li>)}
        </ul>
      </div>
    </div>
  );
}
