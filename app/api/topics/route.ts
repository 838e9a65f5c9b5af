import "server-only";
import { requireToken } from "@/lib/auth/guard";
import { withApiErrors } from "@/lib/http/api-error";
import { describePipelineTopics } from "@/lib/topics/summary";
import { proxied, softUnavailable } from "@/lib/upstreams/errors";
import { consoleLog } from "@/lib/upstreams/log";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * GET /api/topics → `{topics, timestamp}`: each of the pipeline's topics
 * (lib/topics/catalog.ts) with partitions, start and end offsets, the records
 * between them (read_committed: markers and aborted records do not count),
 * bytes on disk, retention and cleanup, its writer and the groups reading it
 * (lib/topics/types.ts). `?unavailable=200`: see softUnavailable.
 */
export const GET = withApiErrors(consoleLog("/api/topics"), (request: Request) => softUnavailable(request, async () => {
  requireToken(request);
  const answer = await proxied("Kafka", () => describePipelineTopics());
  return Response.json(answer, { headers: { "cache-control": "no-store" } });
}));
