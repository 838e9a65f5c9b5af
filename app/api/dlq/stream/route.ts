import { streamPoller } from "@/lib/sse/streams";
import { streamRoute } from "@/lib/sse/stream-route";

// Streams live data held open per client: never cached, Node runtime (shared poller, Kafka).
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** GET /api/dlq/stream — SSE, event `dlq`: entries in both Kafka DLQs per stage; `?once=1` for one event; resumes after `Last-Event-ID`. */
export const GET = streamRoute(() => streamPoller("dlq"));
