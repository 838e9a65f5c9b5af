/** The ingest form says the limits the API enforces, read from the same constants. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { IngestForm } from "@/components/ingest/ingest-form";

describe("ingest form", () => {
  it("states the limits per text, per send and per JSONL file", () => {
    const html = renderToStaticMarkup(createElement(QueryClientProvider, { client: new QueryClient() }, createElement(IngestForm)));
    const limits = /data-testid="ingest-limits">([^<]*(?:<!-- -->[^<]*)*)</.exec(html)?.[1]?.replaceAll("<!-- -->", "");
    expect(limits).toBe("Up to 10,000 texts or records per send, each at most 64 KiB (UTF-8); a JSONL file at most 8 MiB, and a send at most 8 MiB in all.");
  });
});
