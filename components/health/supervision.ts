import type { StatusTone } from "@/components/ui/status-badge";
import { describeExit, type SupervisedProcessState } from "@/lib/health/supervisor-state";

/**
 * How a supervised process reads on the page. A running process is green
 * whatever its restart count: it came back, and the count and last exit say
 * what happened. Amber while it is being restarted, red only when the
 * launcher gave up on it (a crash loop).
 */
export function processTone(p: Pick<SupervisedProcessState, "state">): StatusTone {
  switch (p.state) {
    case "running":
      return "ok";
    case "starting":
    case "restarting":
      return "warn";
    case "crash-loop":
      return "down";
    default:
      return "unknown";
  }
}

/** "signal SIGKILL · 12:03:04 · consumer crashed: …", or "—" when it never exited. */
export function lastExitText(p: Pick<SupervisedProcessState, "last_exit">, clock: (ts: number) => string): string {
  const e = p.last_exit;
  if (!e) return "—";
  return [describeExit(e), clock(e.ts), e.error].filter(Boolean).join(" · ");
}
