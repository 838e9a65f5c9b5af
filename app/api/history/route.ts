import { historyRecorder } from "@/lib/history/recorder";
import { historyRoute } from "@/lib/history/route";
import { STREAM_NAMES } from "@/lib/sse/streams";

// Answers from the process's in-memory history: never cached, Node runtime.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** GET /api/history?names=lag,infermesh&window=1h — recorded events of each stream for the window (lib/history). */
export const GET = historyRoute(historyRecorder, STREAM_NAMES);
