import { streamPoller } from "@/lib/sse/streams";
import { streamRoute } from "@/lib/sse/stream-route";

// Streams live data held open per client: never cached, Node runtime (shared poller, Kafka, files).
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** GET /api/infermesh/stream — SSE, event `infermesh`; `?once=1` for one event; resumes after `Last-Event-ID`. */
export const GET = streamRoute(() => streamPoller("infermesh"));
