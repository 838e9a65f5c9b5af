import "server-only";
import { requireToken } from "@/lib/auth/guard";
import { csvHeader, csvRow, jsonlRow } from "@/lib/dlq/csv";
import type { DlqItem } from "@/lib/dlq/item";
import { planDownload } from "@/lib/dlq/source";
import { parseSearchParams, withApiErrors } from "@/lib/http/api-error";
import { proxied } from "@/lib/upstreams/errors";
import { consoleLog } from "@/lib/upstreams/log";
import { dlqDownloadSchema } from "../schema";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const log = consoleLog("/api/embed-worker/dlq/download");

/**
 * GET /api/embed-worker/dlq/download?format=jsonl|csv&limit=N|all&stage=…&source=kafka|reddb —
 * the DLQs streamed from Kafka as they are read (each topic's newest N, topic by
 * topic; nothing held in memory), as a file. Each row carries its stage and the
 * original message whole.
 */
export const GET = withApiErrors(log, async (request: Request) => {
  requireToken(request);
  const q = parseSearchParams(request.url, dlqDownloadSchema);
  const row = q.format === "csv" ? csvRow : jsonlRow;
  const run = await proxied(q.source === "reddb" ? "RedDB" : "Kafka", () => planDownload(q));
  const encoder = new TextEncoder();
  const abort = new AbortController();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const write = (item: DlqItem) => controller.enqueue(encoder.encode(row(item)));
      try {
        if (q.format === "csv") controller.enqueue(encoder.encode(csvHeader()));
        await run(write, AbortSignal.any([abort.signal, request.signal]));
        controller.close();
      } catch (err) {
        log().error({ err }, "DLQ download failed midway");
        controller.error(err);
      }
    },
    cancel: () => abort.abort(),
  });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return new Response(stream, {
    headers: {
      "content-type": q.format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="dlq-${q.stage ?? "all"}-${stamp}.${q.format}"`,
      "cache-control": "no-store",
    },
  });
});
