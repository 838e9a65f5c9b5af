"use client";

import { useState, type FormEvent } from "react";
import { fromDateTimeLocal, MAX_LIMIT, toDateTimeLocal, type MessagesQuery, type Position } from "./topic-query";

const field = "rounded-md border border-line bg-surface px-2 py-1 text-xs";

interface Props {
  query: MessagesQuery;
  /** The topic's partitions (empty while unknown). */
  partitions: readonly number[];
  onSubmit: (q: MessagesQuery) => void;
}

/** Partition, position (newest, from an offset, from a time in UTC), key and limit: what to read. */
export function MessagesForm({ query, partitions, onSubmit }: Props) {
  const [q, setQ] = useState(query);
  const [error, setError] = useState<string | null>(null);
  const set = (change: Partial<MessagesQuery>) => setQ((old) => ({ ...old, ...change }));
  // The URL may name a partition the topic does not have: keep it selectable, the answer says what is valid.
  const options = q.partition !== "" && !partitions.map(String).includes(q.partition) ? [...partitions.map(String), q.partition] : partitions.map(String);

  function submit(e: FormEvent) {
    e.preventDefault();
    if (q.position === "offset" && q.partition === "") return setError("choose a partition to read from an offset");
    if (q.position === "offset" && !/^\d+$/.test(q.offset.trim())) return setError("an offset is a whole number");
    if (q.position === "timestamp" && q.timestamp === "") return setError("choose a time to read from");
    setError(null);
    onSubmit({ ...q, offset: q.offset.trim(), key: q.key });
  }

  return (
    <form onSubmit={submit} className="grid gap-2 rounded-lg border border-line bg-surface p-4 text-xs" data-testid="topic-messages-form">
      <div className="flex flex-wrap items-center gap-2">
        <select value={q.position === "cursor" ? "" : q.partition} disabled={q.position === "cursor"} onChange={(e) => set({ partition: e.target.value })} className={field} aria-label="partition" data-testid="messages-partition" title={q.position === "cursor" ? "a next page continues in every partition the first page read" : undefined}>
          <option value="">all partitions</option>
          {options.map((p) => <option key={p} value={p}>partition {p}</option>)}
        </select>
        <select value={q.position} onChange={(e) => set({ position: e.target.value as Position })} className={field} aria-label="position" data-testid="messages-position">
          <option value="newest">newest</option>
          <option value="offset">from offset</option>
          <option value="timestamp">from time (UTC)</option>
          {query.position === "cursor" && <option value="cursor">next page</option>}
        </select>
        {q.position === "offset" && <input value={q.offset} onChange={(e) => set({ offset: e.target.value })} inputMode="numeric" placeholder="offset" aria-label="offset" className={`${field} w-28`} data-testid="messages-offset" />}
        {q.position === "cursor" && <span className="font-mono text-muted" data-testid="messages-cursor" title="where the previous page stopped, per partition">from {q.cursor}</span>}
        {q.position === "timestamp" && (
          <label className="flex items-center gap-1 text-muted">
            <input type="datetime-local" step={1} value={toDateTimeLocal(q.timestamp)} onChange={(e) => set({ timestamp: fromDateTimeLocal(e.target.value) })} aria-label="from time, UTC" className={field} data-testid="messages-timestamp" />
            UTC
          </label>
        )}
        <input value={q.key} onChange={(e) => set({ key: e.target.value })} placeholder="key (doc_id), exact" aria-label="key" className={`${field} min-w-48 flex-1 font-mono`} data-testid="messages-key" />
        <label className="text-muted">limit <input type="number" min={1} max={MAX_LIMIT} value={q.limit} onChange={(e) => set({ limit: e.target.value })} className={`${field} w-20`} data-testid="messages-limit" /></label>
        <button type="submit" className="rounded-md bg-accent px-3 py-1 font-medium text-surface" data-testid="messages-submit">Read</button>
      </div>
      {error && <p className="text-down" role="alert" data-testid="messages-form-error">{error}</p>}
    </form>
  );
}
