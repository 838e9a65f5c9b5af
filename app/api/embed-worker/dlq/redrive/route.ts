import "server-only";
import { requireToken } from "@/lib/auth/guard";
import { executeRedrive, planRedrive, redriveOptions } from "@/lib/dlq/redrive";
import { dlqSourceName, readDlq } from "@/lib/dlq/source";
import { parseJsonBody, withApiErrors } from "@/lib/http/api-error";
import { proxied } from "@/lib/upstreams/errors";
import { consoleLog } from "@/lib/upstreams/log";
import { redriveSchema } from "../schema";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const log = consoleLog("/api/embed-worker/dlq/redrive");

/**
 * POST /api/embed-worker/dlq/redrive `{ids: [...] | "all", limit}` → `{redriven, skipped}`.
 * Entries are re-read from the DLQ on the server (the browser's copy is never
 * trusted), sent back to their source topic with the replay count raised, and
 * the operation is logged as one audit line.
 */
export const POST = withApiErrors(log, async (request: Request) => {
  const auth = requireToken(request);
  const body = await parseJsonBody(request, redriveSchema);
  const { items } = await proxied("DLQ source", () => readDlq(body.limit, request.signal));
  const wanted = body.ids === "all" ? items : items.filter((i) => (body.ids as string[]).includes(i.id));
  const missing = body.ids === "all" ? [] : body.ids.filter((id) => !wanted.some((i) => i.id === id));
  const source = dlqSourceName();
  const plan = planRedrive(wanted, redriveOptions(source));
  await proxied("Kafka", () => executeRedrive(plan));
  const skipped = [...plan.skipped, ...missing.map((id) => ({ id, reason: "not_found" as const }))];
  log().info(
    { audit: "dlq_redrive", source, by: auth, requested: body.ids === "all" ? "all" : body.ids.length, redriven: plan.send.length, skipped: skipped.length, ids: plan.send.slice(0, 100).map((s) => s.id), topics: [...new Set(plan.send.map((s) => s.topic))] },
    "DLQ redrive",
  );
  return Response.json({ redriven: plan.send.map((s) => ({ id: s.id, topic: s.topic })), skipped }, { headers: { "cache-control": "no-store" } });
});
