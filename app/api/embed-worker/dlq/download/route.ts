import "server-only";
import { requireToken } from "@/lib/auth/guard";
import { dlqRows } from "@/lib/dlq/csv";
import { acquireDownloadSlot, downloadStream } from "@/lib/download/stream";
import { PARTIAL_HEADER, partialHeaderValue } from "@/lib/dlq/partial";
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
 * the DLQs as a file, each row with its stage and the original message whole.
 * Pulled as the client reads (lib/download/stream.ts): the Kafka consumer waits
 * while the client is slow, at most DOWNLOAD_QUEUE_ROWS rows are queued.
 * At most MAX_CONCURRENT_DOWNLOADS (2) at once in this console, topic exports included: one more is a
 * 429 `rate_limited` with Retry-After. DOWNLOAD_DEADLINE_MS (120 s) for the
 * whole file: past it the response errors (a failed download, never a short
 * file). When the source will cap the answer (RedDB: at most 1,000 entries per
 * read) the response says so before the first byte: `X-Embedline-Partial:
 * source_cap; limit=1000`.
 */
export const GET = withApiErrors(log, async (request: Request) => {
  requireToken(request);
  const q = parseSearchParams(request.url, dlqDownloadSchema);
  const release = acquireDownloadSlot();
  try {
    const plan = await proxied(q.source === "reddb" ? "RedDB" : "Kafka", () => planDownload(q));
    const stream = downloadStream(plan.open, { ...dlqRows(q.format), signal: request.signal, log, onClose: release });
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    return new Response(stream, {
      headers: {
        "content-type": q.format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
        "content-disposition": `attachment; filename="dlq-${q.stage ?? "all"}-${stamp}.${q.format}"`,
        "cache-control": "no-store",
        ...(plan.partial ? { [PARTIAL_HEADER]: partialHeaderValue(plan.partial) } : {}),
      },
    });
  } catch (err) {
    release();
    throw err;
  }
});
