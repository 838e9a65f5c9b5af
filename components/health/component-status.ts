import type { StatusTone } from "@/components/ui/status-badge";
import type { ComponentState } from "@/lib/health/schema";

/** How a component's state reads: red only for something in use and failing; grey "not in use" otherwise. */
export const componentStatus: Record<ComponentState, { tone: StatusTone; label: string }> = {
  ok: { tone: "ok", label: "ok" },
  down: { tone: "down", label: "down" },
  not_in_use: { tone: "off", label: "not in use" },
};
