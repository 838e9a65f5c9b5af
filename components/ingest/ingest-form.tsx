"use client";

import { useState, type FormEvent } from "react";
import { INGEST_MAX_BYTES, INGEST_MAX_JSONL_BYTES, INGEST_MAX_TEXT_BYTES, MAX_INGEST_RECORDS } from "@/app/api/ingest/limits";
import { Card } from "@/components/ui/card";
import { formatBytes } from "@/lib/http/api-error";
import { useIngestMutation } from "./use-ingest-mutation";

const records = MAX_INGEST_RECORDS.toLocaleString("en-US");

/**
 * Paste texts (one per line) or upload a JSONL file; both go to the raw topic.
 * The form states the limits the API enforces (app/api/ingest/limits.ts) and
 * shows the API's own message when a send is refused (413, 422).
 */
export function IngestForm() {
  const [texts, setTexts] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [tooBig, setTooBig] = useState<string | null>(null);
  const ingest = useIngestMutation();

  function pick(f: File | null) {
    setFile(f);
    ingest.reset();
    // Not read at all when it cannot be sent: the API would refuse it after the upload.
    setTooBig(f && f.size > INGEST_MAX_JSONL_BYTES ? `${f.name} is ${formatBytes(f.size)}, over the ${formatBytes(INGEST_MAX_JSONL_BYTES)} limit of a JSONL file` : null);
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (tooBig) return;
    if (file) return ingest.mutate({ jsonl: await file.text() });
    const lines = texts.split("\n").map((t) => t.trim()).filter(Boolean);
    if (lines.length > 0) ingest.mutate({ texts: lines }, { onSuccess: () => setTexts("") });
  }

  const error = tooBig ?? ingest.error?.message;
  return (
    <Card title="Send texts to the pipeline" data-testid="ingest-card">
      <form onSubmit={submit} className="grid gap-3 p-4">
        <textarea value={texts} onChange={(e) => setTexts(e.target.value)} rows={8} placeholder={"One text per line, e.g.\nA large furry dog runs in the park"} className="rounded-md border border-line bg-surface p-2 font-mono text-sm" data-testid="ingest-texts" aria-label="texts" />
        <label className="text-xs text-muted">
          or a JSONL file (one JSON record per line):{" "}
          <input type="file" accept=".jsonl,.ndjson,application/x-ndjson" onChange={(e) => pick(e.target.files?.[0] ?? null)} data-testid="ingest-file" />
        </label>
        <p className="text-xs text-muted" data-testid="ingest-limits">
          Up to {records} texts or records per send, each at most {formatBytes(INGEST_MAX_TEXT_BYTES)} (UTF-8); a JSONL file at most {formatBytes(INGEST_MAX_JSONL_BYTES)}, and a send at most {formatBytes(INGEST_MAX_BYTES)} in all.
        </p>
        <div className="flex items-center gap-3">
          <button type="submit" disabled={ingest.isPending || tooBig !== null} className="rounded-md bg-accent px-3 py-1.5 text-sm font-medium text-surface disabled:opacity-50" data-testid="ingest-submit">Send</button>
          {ingest.data && <span className="text-sm text-ok" data-testid="ingest-result">sent {ingest.data.sent} to {ingest.data.topic}</span>}
          {error && <span role="alert" className="text-sm text-down" data-testid="ingest-error">{error}</span>}
        </div>
      </form>
    </Card>
  );
}
