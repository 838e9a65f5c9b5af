import type { Metadata } from "next";
import { IngestForm } from "@/components/ingest/ingest-form";

export const metadata: Metadata = { title: "Ingest" };

export default function IngestPage() {
  return (
    <div className="grid gap-4" data-testid="ingest-page">
      <h1 className="text-lg font-semibold">Ingest</h1>
      <p className="text-sm text-muted">Texts go to the raw topic; the parse stage, the embed-worker and the indexer take them from there. Search for them a few seconds later.</p>
      <IngestForm />
    </div>
  );
}
