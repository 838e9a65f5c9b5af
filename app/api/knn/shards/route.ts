import "server-only";
import { z } from "zod";
import { ApiError, withApiErrors } from "@/lib/http/api-error";
import { proxied, softUnavailable } from "@/lib/upstreams/errors";
import { indexerCall } from "@/lib/upstreams/indexer";
import { consoleLog } from "@/lib/upstreams/log";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const shardsSchema = z.object({
  shards: z.array(z.object({
    id: z.number(),
    count: z.number(),
    samples: z.array(z.string()),
    /** The samples with the start of their texts (absent from older indexers). */
    sample_docs: z.array(z.object({ doc_id: z.string(), text: z.string().nullable(), text_truncated: z.boolean(), text_stored: z.boolean() })).optional(),
    bytes: z.number().nullish(),
    last_update: z.number().nullish(),
  })),
  total_ids: z.number(),
  nonempty: z.number(),
  dims_by_model: z.record(z.string(), z.number()),
  /** The model whose vectors the index holds (one per index; null while empty, absent from older indexers). */
  model: z.string().nullish(),
  timestamp: z.number(),
});
export type ShardsAnswer = z.output<typeof shardsSchema>;

/** GET /api/knn/shards → the indexer's GET /knn/shards (`?unavailable=200`: see softUnavailable). */
export const GET = withApiErrors(consoleLog("/api/knn/shards"), (request: Request) => softUnavailable(request, async () => {
  const { body } = await proxied("indexer", () => indexerCall<unknown>("/knn/shards", { signal: request.signal }));
  const parsed = shardsSchema.safeParse(body);
  if (!parsed.success) throw new ApiError(502, "upstream_failed", "indexer answered in an unexpected shape");
  return Response.json(parsed.data, { headers: { "cache-control": "no-store" } });
}));
