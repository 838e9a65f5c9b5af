"use client";

import type { VectorSummary } from "@/lib/topics/types";
import { FoldedText } from "./folded-text";
import { isFlatArray, isWholeVector, vectorLabel, vectorSummary } from "./message-view";

interface Props {
  value: unknown;
  /** "full vector": read the record again with its vectors whole. */
  onFullVector?: () => void;
  loadingVectors?: boolean;
}

function VectorChip({ s, onFull, loading }: { s: VectorSummary; onFull?: () => void; loading?: boolean }) {
  return (
    <span className="rounded bg-surface-2 px-1 font-sans" data-testid="vector-summary" data-dim={s.dim} title={`${s.dim} numbers, summarised: the first ${s.head.length} as stored`}>
      {vectorLabel(s)}
      {onFull && (
        <button type="button" className="ml-2 text-accent underline disabled:opacity-50" disabled={loading} onClick={onFull} data-testid="full-vector">
          {loading ? "loading…" : "full vector"}
        </button>
      )}
    </span>
  );
}

/** One JSON value, indented: objects and nested arrays a line per member, flat arrays on one wrapped line. */
function Node({ v, props }: { v: unknown; props: Props }) {
  const vector = vectorSummary(v);
  if (vector) return <VectorChip s={vector} onFull={props.onFullVector} loading={props.loadingVectors} />;
  if (typeof v === "string") return <FoldedText text={JSON.stringify(v)} className="text-ok" />;
  if (v === null || typeof v !== "object") return <span className="text-accent">{JSON.stringify(v)}</span>;
  if (Array.isArray(v)) {
    if (isFlatArray(v)) return <span className="break-all" data-testid={isWholeVector(v) ? "vector-full" : undefined} data-dim={v.length}>[{v.map((x) => JSON.stringify(x)).join(", ")}]</span>;
    return (
      <>
        [
        {v.map((x, i) => (
          <div key={i} className="pl-4"><Node v={x} props={props} />{i < v.length - 1 && ","}</div>
        ))}
        ]
      </>
    );
  }
  const entries = Object.entries(v);
  if (entries.length === 0) return <>{"{}"}</>;
  return (
    <>
      {"{"}
      {entries.map(([k, x], i) => (
        <div key={k} className="pl-4">
          <span className="text-muted">{JSON.stringify(k)}</span>: <Node v={x} props={props} />{i < entries.length - 1 && ","}
        </div>
      ))}
      {"}"}
    </>
  );
}

/** A message's value pretty-printed as JSON, vectors summarised with a "full vector" action, long strings folded. */
export function JsonView(props: Props) {
  return (
    <div className="max-h-[32rem] overflow-auto whitespace-pre-wrap wrap-anywhere rounded bg-surface-2 px-2 py-1 font-mono text-xs" data-testid="message-json">
      <Node v={props.value} props={props} />
    </div>
  );
}
