import "server-only";
import { requireToken } from "@/lib/auth/guard";
import { consoleConfig } from "@/lib/config/console";
import { ApiError, parseJsonBody, withApiErrors } from "@/lib/http/api-error";
import { proxied } from "@/lib/upstreams/errors";
import { producer } from "@/lib/upstreams/kafka";
import { consoleLog } from "@/lib/upstreams/log";
import { INGEST_MAX_BYTES, ingestSchema, parseJsonl } from "./schema";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const ROUTE = "/api/ingest";
const log = consoleLog(ROUTE);

/**
 * POST /api/ingest `{texts: [...]}` or `{jsonl: "..."}` → `{sent, topic}`: each
 * text as `{"text": …}`, each JSONL line as it is, to the raw topic
 * (agent.results), where the parse stage picks them up. Limits (schema.ts):
 * the body ≤ 8 MiB, each text or JSONL line ≤ 64 KiB, ≤ 10,000 records.
 */
export const POST = withApiErrors(log, async (request: Request) => {
  const auth = requireToken(request);
  const body = await parseJsonBody(request, ingestSchema, { maxBytes: INGEST_MAX_BYTES, route: ROUTE });
  let values: unknown[];
  if ("texts" in body) values = body.texts.map((text) => ({ text }));
  else {
    const parsed = parseJsonl(body.jsonl);
    if (parsed.error) throw new ApiError("invalid_request", parsed.error);
    values = parsed.values;
  }
  const topic = consoleConfig().topics.ingest;
  const messages = values.map((v) => ({ value: typeof v === "string" ? v : JSON.stringify(v) }));
  await proxied("Kafka", async () => (await producer()).send({ topic, acks: -1, messages }));
  log().info({ audit: "ingest", by: auth, topic, count: messages.length }, "ingest");
  return Response.json({ sent: messages.length, topic }, { headers: { "cache-control": "no-store" } });
});
