"use client";

import Link from "next/link";
import { useState } from "react";
import type { TopicMessage } from "@/lib/topics/types";
import { isoTime } from "./message-view";
import { ShownBytesView } from "./shown-bytes";
import { JsonView } from "./json-view";
import type { ReadExtras } from "./topic-query";
import { useRecordQuery } from "./use-topics-query";

/**
 * One record: partition, offset, time (UTC), key, headers, then its value as
 * JSON (vectors summarised) or text or base64, and its links to other stages.
 * "full vector" and "load whole value" read this one record again.
 */
export function MessageCard({ topic, message }: { topic: string; message: TopicMessage }) {
  const [extras, setExtras] = useState<ReadExtras>({});
  const again = useRecordQuery(topic, message.partition, message.offset, extras);
  const answer = again.data && "messages" in again.data ? again.data : undefined;
  const m = answer?.messages.find((x) => x.partition === message.partition && x.offset === message.offset) ?? message;
  const failed = again.error?.message ?? (again.data && "unavailable" in again.data ? again.data.unavailable.message : undefined);
  const want = (e: ReadExtras) => setExtras((old) => ({ ...old, ...e }));
  const key = message.key?.encoding === "utf8" ? message.key.data : "";
  return (
    <article className="grid min-w-0 gap-1.5 px-4 py-3 text-xs" data-testid="topic-message" data-partition={message.partition} data-offset={message.offset} data-key={key}>
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1 text-muted">
        <span>partition <span className="font-mono text-fg" data-testid="message-partition">{message.partition}</span></span>
        <span>offset <span className="font-mono text-fg" data-testid="message-offset">{message.offset}</span></span>
        <time className="font-mono text-fg" dateTime={isoTime(message.timestamp)} data-testid="message-time">{isoTime(message.timestamp)}</time>
        <span className="min-w-0">key <ShownBytesView b={message.key} data-testid="message-key" /></span>
        {m.links.map((l) => (
          <Link key={`${l.rel}-${l.href}`} href={l.href} className="rounded-md border border-line px-2 py-0.5 text-accent hover:bg-surface-2" data-testid={`message-link-${l.rel}`}>{l.label}</Link>
        ))}
      </div>
      {m.headers.length > 0 && (
        <ul className="flex flex-wrap gap-x-3 text-muted" data-testid="message-headers">
          {m.headers.map((h, i) => <li key={`${h.key}-${i}`} data-testid="message-header"><span className="font-mono">{h.key}</span>: <ShownBytesView b={h.value} /></li>)}
        </ul>
      )}
      {m.json !== undefined ? (
        <JsonView value={m.json} onFullVector={() => want({ vectors: true })} loadingVectors={again.isFetching} />
      ) : (
        <div className="max-h-[32rem] min-w-0 overflow-auto rounded bg-surface-2 px-2 py-1 wrap-anywhere" data-testid="message-value">
          <ShownBytesView b={m.value} onLoadWhole={() => want({ full: true })} loading={again.isFetching} data-testid="message-value-bytes" />
        </div>
      )}
      {failed && <p className="text-down" role="alert" data-testid="message-reread-error">could not read it again: {failed}</p>}
    </article>
  );
}
