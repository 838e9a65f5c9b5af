"use client";

import { useState } from "react";
import { downloadFile } from "@/components/search/download";
import { Card } from "@/components/ui/card";
import type { MessagesAnswer } from "@/lib/topics/types";
import { MessageCard } from "./message-card";
import { MessagesEmpty, MessagesPartialNote } from "./messages-states";
import { toJsonl } from "./message-view";
import { exportHref, nextPageQuery, type MessagesQuery } from "./topic-query";

const btn = "rounded-md border border-line px-2 py-0.5 hover:bg-surface-2";
const MODES: Record<MessagesAnswer["mode"], string> = { newest: "newest first", offset: "from an offset", timestamp: "from a time", cursor: "next page" };

interface Props {
  name: string;
  query: MessagesQuery;
  answer: MessagesAnswer;
  onQuery: (q: MessagesQuery) => void;
}

/** The records read, with "Download JSONL" of what is shown, the server export of a larger range, and the next page. */
export function MessagesList({ name, query, answer, onQuery }: Props) {
  const [exportLimit, setExportLimit] = useState("10000");
  const aside = (
    <>
      <span data-testid="topic-messages-scanned">{MODES[answer.mode]} · {answer.scanned.toLocaleString("en-US")} offsets read</span>
      <button type="button" className={btn} disabled={answer.messages.length === 0} onClick={() => downloadFile(`${name}-messages.jsonl`, toJsonl(name, answer.messages), "application/x-ndjson")} data-testid="topic-download-jsonl">Download JSONL</button>
    </>
  );
  return (
    <Card title={`${answer.messages.length.toLocaleString("en-US")} ${answer.messages.length === 1 ? "record" : "records"}`} aside={aside} data-testid="topic-messages-list">
      {answer.partial && <MessagesPartialNote partial={answer.partial} scanned={answer.scanned} />}
      {answer.messages.length === 0 ? (
        <MessagesEmpty answer={answer} />
      ) : (
        <ol className="divide-y divide-line">
          {answer.messages.map((m) => <li key={`${m.partition}-${m.offset}`}><MessageCard topic={name} message={m} /></li>)}
        </ol>
      )}
      <footer className="flex flex-wrap items-center gap-2 border-t border-line px-4 py-2 text-xs text-muted">
        {answer.next && (
          <button type="button" className={btn} onClick={() => onQuery(nextPageQuery(query, answer.next!))} data-testid="topic-next-page" title={`continues at ${answer.next}`}>Next page</button>
        )}
        {answer.mode === "newest" && <span>newest first: for older records, read from an offset or a time</span>}
        <span className="ml-auto flex items-center gap-1">
          <label>export limit <input value={exportLimit} onChange={(e) => setExportLimit(e.target.value)} placeholder="number or all" aria-label="export limit" className="w-24 rounded-md border border-line bg-surface px-2 py-0.5" data-testid="topic-export-limit" /></label>
          <a className={btn} href={exportHref(name, query, exportLimit)} download data-testid="topic-export" title="streamed by the server as JSONL: up to 1,000,000 records, or all">Export {exportLimit.trim() || "50"} (server)</a>
        </span>
      </footer>
    </Card>
  );
}
