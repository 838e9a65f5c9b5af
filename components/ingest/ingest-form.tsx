"use client";

import { useState, type FormEvent } from "react";
import { Card } from "@/components/ui/card";
import { useIngestMutation } from "./use-ingest-mutation";

/** Paste texts (one per line) or upload a JSONL file; both go to the raw topic. */
export function IngestForm() {
  const [texts, setTexts] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const ingest = useIngestMutation();

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (file) return ingest.mutate({ jsonl: await file.text() });
    const lines = texts.split("\n").map((t) => t.trim()).filter(Boolean);
    if (lines.length > 0) ingest.mutate({ texts: lines }, { onSuccess: () => setTexts("") });
  }

  return (
    <Card title="Send texts to the pipeline" data-testid="ingest-card">
      <form onSubmit={submit} className="grid gap-3 p-4">
        <textarea value={texts} onChange={(e) => setTexts(e.target.value)} rows={8} placeholder={"One text per line, e.g.\nA large furry dog runs in the park"} className="rounded-md border border-line bg-surface p-2 font-mono text-sm" data-testid="ingest-texts" aria-label="texts" />
        <label className="text-xs text-muted">
          or a JSONL file (one JSON record per line):{" "}
          <input type="file" accept=".jsonl,.ndjson,application/x-ndjson" onChange={(e) => setFile(e.target.files?.[0] ?? null)} data-testid="ingest-file" />
        </label>
        <div className="flex items-center gap-3">
          <button type="submit" disabled={ingest.isPending} className="rounded-md bg-accent px-3 py-1.5 text-sm font-medium text-surface disabled:opacity-50" data-testid="ingest-submit">Send</button>
          {ingest.data && <span className="text-sm text-ok" data-testid="ingest-result">sent {ingest.data.sent} to {ingest.data.topic}</span>}
          {ingest.error && <span className="text-sm text-down" data-testid="ingest-error">{ingest.error.message}</span>}
        </div>
      </form>
    </Card>
  );
}
