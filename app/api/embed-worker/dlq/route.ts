import "server-only";
import { forList } from "@/lib/dlq/item";
import { describeSource, dlqSources, readDlq } from "@/lib/dlq/source";
import { parseSearchParams, withApiErrors } from "@/lib/http/api-error";
import { proxied, softUnavailable } from "@/lib/upstreams/errors";
import { consoleLog } from "@/lib/upstreams/log";
import { dlqQuerySchema } from "./schema";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * GET /api/embed-worker/dlq?limit=N (1..10000, default 500)&stage=parse|embed|index&source=kafka|reddb
 * → `{items, count, complete, partial, source, sources, timestamp}`, newest first: a bounded
 * read_committed read of both Kafka DLQ topics (PARSE_DLQ_TOPIC, EMBED_DLQ_TOPIC)
 * merged, or of RedDB's DLQ stream with `source=reddb`. Each item carries its
 * stage and original message (long data clipped: the download has it whole).
 * `partial` says when the answer holds only part of what was asked, and why
 * (lib/dlq/partial.ts): `null`, or `{reason, limit, message}` with reason
 * `source_cap` (RedDB returns at most 1,000 entries per read and holds more:
 * `limit` is how many it returned) or `deadline` (the read hit its 10 s
 * deadline: `limit` is how many were read). `complete` is `partial === null`.
 */
export const GET = withApiErrors(consoleLog("/api/embed-worker/dlq"), (request: Request) => softUnavailable(request, async () => {
  const q = parseSearchParams(request.url, dlqQuerySchema);
  const { items, complete, partial } = await proxied(q.source === "reddb" ? "RedDB" : "Kafka", () => readDlq(q, request.signal));
  return Response.json(
    { items: items.map((i) => forList(i)), count: items.length, complete, partial, source: describeSource(q.source, q.stage), sources: dlqSources(), timestamp: Date.now() / 1000 },
    { headers: { "cache-control": "no-store" } },
  );
}));
