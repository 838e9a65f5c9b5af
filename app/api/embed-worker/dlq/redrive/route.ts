import "server-only";
import { requireToken } from "@/lib/auth/guard";
import { consoleConfig } from "@/lib/config/console";
import { normalizeDlqId } from "@/lib/dlq/item";
import { executeRedrive, planRedrive, redriveOptions } from "@/lib/dlq/redrive";
import { describeSource, readDlq } from "@/lib/dlq/source";
import { parseJsonBody, withApiErrors } from "@/lib/http/api-error";
import { proxied } from "@/lib/upstreams/errors";
import { consoleLog } from "@/lib/upstreams/log";
import { redriveSchema } from "../schema";
import { REDRIVE_MAX_BYTES } from "./limits";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const log = consoleLog("/api/embed-worker/dlq/redrive");

/**
 * POST /api/embed-worker/dlq/redrive `{ids: [...] | "all", limit, stage?, source?}` → `{redriven, skipped, partial}`;
 * `partial` (lib/dlq/partial.ts) is non-null when the server's read of the DLQ was cut short (RedDB's
 * 1,000-per-read cap, the read deadline): `all` then covered only the entries read.
 * Entries are re-read from the DLQs on the server (the browser's copy is never
 * trusted) and sent back to their source topic (lib/dlq/redrive.ts: the
 * original message when kept whole, else rebuilt from text) with the replay
 * count raised; the operation is logged as one audit line.
 */
export const POST = withApiErrors(log, async (request: Request) => {
  const auth = requireToken(request);
  const body = await parseJsonBody(request, redriveSchema, { maxBytes: REDRIVE_MAX_BYTES, route: "/api/embed-worker/dlq/redrive" });
  const cfg = consoleConfig();
  const { items, partial } = await proxied(body.source === "reddb" ? "RedDB" : "Kafka", () => readDlq(body, request.signal));
  const ids = body.ids === "all" ? undefined : [...new Set(body.ids.map((id) => normalizeDlqId(id, { embedTopic: cfg.topics.dlq, reddbStream: cfg.reddb?.dlqStream })))];
  const wanted = ids ? items.filter((i) => ids.includes(i.id)) : items;
  const missing = ids ? ids.filter((id) => !wanted.some((i) => i.id === id)) : [];
  const plan = planRedrive(wanted, redriveOptions());
  await proxied("Kafka", () => executeRedrive(plan));
  const skipped = [...plan.skipped, ...missing.map((id) => ({ id, reason: "not_found" as const, detail: `not among the newest ${body.limit} entries read${partial ? ` (${partial.message})` : ""}` }))];
  log().info(
    { audit: "dlq_redrive", source: describeSource(body.source, body.stage), by: auth, requested: ids ? ids.length : "all", redriven: plan.send.length, skipped: skipped.length, ids: plan.send.slice(0, 100).map((s) => s.id), topics: [...new Set(plan.send.map((s) => s.topic))] },
    "DLQ redrive",
  );
  return Response.json({ redriven: plan.send.map((s) => ({ id: s.id, topic: s.topic, how: s.how })), skipped, partial }, { headers: { "cache-control": "no-store" } });
});
