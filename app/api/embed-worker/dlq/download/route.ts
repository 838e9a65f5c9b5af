import "server-only";
import { requireToken } from "@/lib/auth/guard";
import { consoleConfig } from "@/lib/config/console";
import { csvHeader, csvRow, jsonlRow } from "@/lib/dlq/csv";
import type { DlqItem } from "@/lib/dlq/item";
import { kafkaItem, readDlq } from "@/lib/dlq/source";
import { parseSearchParams, withApiErrors } from "@/lib/http/api-error";
import { proxied } from "@/lib/upstreams/errors";
import { planNewest, readRanges } from "@/lib/upstreams/kafka";
import { consoleLog } from "@/lib/upstreams/log";
import { dlqDownloadSchema } from "../schema";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const log = consoleLog("/api/embed-worker/dlq/download");

/**
 * GET /api/embed-worker/dlq/download?format=jsonl|csv&limit=N|all — the DLQ
 * streamed from Kafka as it is read (any N; nothing held in memory), as a file.
 */
export const GET = withApiErrors(log, async (request: Request) => {
  requireToken(request);
  const { format, limit } = parseSearchParams(request.url, dlqDownloadSchema);
  const row = format === "csv" ? csvRow : jsonlRow;
  const cfg = consoleConfig();
  const plan = cfg.reddb ? undefined : await proxied("Kafka", () => planNewest(cfg.topics.dlq, limit));
  const encoder = new TextEncoder();
  const abort = new AbortController();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const write = (item: DlqItem) => controller.enqueue(encoder.encode(row(item)));
      try {
        if (format === "csv") controller.enqueue(encoder.encode(csvHeader()));
        if (plan) await readRanges(plan, (m) => write(kafkaItem(m)), AbortSignal.any([abort.signal, request.signal]));
        else (await readDlq(limit === "all" ? 10_000 : Math.min(limit, 10_000), abort.signal)).items.forEach(write);
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
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="embeddings-dlq-${stamp}.${format}"`,
      "cache-control": "no-store",
    },
  });
});
