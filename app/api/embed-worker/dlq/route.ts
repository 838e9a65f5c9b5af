import "server-only";
import { readDlq } from "@/lib/dlq/source";
import { parseSearchParams, withApiErrors } from "@/lib/http/api-error";
import { proxied, softUnavailable } from "@/lib/upstreams/errors";
import { consoleLog } from "@/lib/upstreams/log";
import { dlqQuerySchema } from "./schema";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * GET /api/embed-worker/dlq?limit=N (1..10000, default 500) → `{items, count, complete, source, timestamp}`,
 * newest first: a bounded read_committed read of the DLQ topic, or the RedDB stream when REDDB_URL is set.
 * `complete: false` when the read hit its deadline and answers with what it had.
 */
export const GET = withApiErrors(consoleLog("/api/embed-worker/dlq"), (request: Request) => softUnavailable(request, async () => {
  const { limit } = parseSearchParams(request.url, dlqQuerySchema);
  const { items, complete } = await proxied("DLQ source", () => readDlq(limit, request.signal));
  return Response.json({ items, count: items.length, complete, timestamp: Date.now() / 1000 }, { headers: { "cache-control": "no-store" } });
}));
