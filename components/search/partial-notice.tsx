import Link from "next/link";
import type { KnnInstance, KnnPartial } from "@/lib/knn/answer";
import { partialView } from "./result-view";

/**
 * An answer that did not search every partition says so above its results:
 * why, which partitions, and what to do (never silently missing). The
 * instances that answered are listed with their partitions.
 */
export function PartialNotice({ partial, instances, what = "results", "data-testid": testId = "partial-notice" }: { partial: KnnPartial; instances: readonly KnnInstance[]; what?: "results" | "counts"; "data-testid"?: string }) {
  const view = partialView(partial, what);
  return (
    <div className="mx-4 my-2 rounded-lg border border-line bg-warn-soft px-3 py-2 text-sm" role="status" data-testid={testId} data-reason={partial.reason}>
      <p className="font-medium text-warn">{view.title}</p>
      <p className="break-words text-xs" data-testid="partial-message">{view.message}</p>
      {instances.length > 0 && (
        <p className="text-xs text-muted" data-testid="partial-instances">
          {instances.map((i) => `${i.instance}: ${i.ok ? `answered${i.partitions.length ? ` (partitions ${i.partitions.join(", ")})` : ""}` : (i.error ?? "did not answer")}`).join(" · ")}
        </p>
      )}
      {view.hint && <p className="mt-1 text-xs">{view.hint.href ? <Link href={view.hint.href} className="text-accent underline">{view.hint.text}</Link> : view.hint.text}</p>}
    </div>
  );
}
