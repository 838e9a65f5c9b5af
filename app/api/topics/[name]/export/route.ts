import "server-only";
import { requireToken } from "@/lib/auth/guard";
import { acquireDownloadSlot, downloadStream } from "@/lib/download/stream";
import { parseSearchParams, withApiErrors } from "@/lib/http/api-error";
import { jsonlExportRow, planTopicExport } from "@/lib/topics/export";
import { exportQuerySchema } from "@/lib/topics/query";
import { proxied } from "@/lib/upstreams/errors";
import { consoleLog } from "@/lib/upstreams/log";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const log = consoleLog("/api/topics/[name]/export");

/**
 * GET /api/topics/{name}/export?<the messages parameters>&limit=N|all (default
 * 10,000) → a JSONL file, one record a line exactly as stored (lib/topics/export.ts),
 * partition by partition in offset order. The DLQ download's limits
 * (lib/download/stream.ts): pulled as the client reads through a bounded
 * queue, 120 s for the whole file (past it the download fails, never a short
 * file), at most 2 downloads at once per console, DLQ files included (429
 * `rate_limited` with Retry-After). Bad parameters are refused before the
 * first byte, as on the messages route.
 */
export const GET = withApiErrors(log, async (request: Request, { params }: { params: Promise<{ name: string }> }) => {
  requireToken(request);
  const { name } = await params;
  const q = parseSearchParams(request.url, exportQuerySchema);
  const release = acquireDownloadSlot();
  try {
    const plan = await proxied("Kafka", () => planTopicExport(name, q));
    const stream = downloadStream(plan.open, { row: jsonlExportRow, signal: request.signal, log, onClose: release });
    return new Response(stream, {
      headers: {
        "content-type": "application/x-ndjson; charset=utf-8",
        "content-disposition": `attachment; filename="${plan.filename}"`,
        "cache-control": "no-store",
      },
    });
  } catch (err) {
    release();
    throw err;
  }
});
