import { PartialNotice } from "@/components/search/partial-notice";
import { Card } from "@/components/ui/card";
import { formatCount } from "@/components/ui/format";
import { StatusBadge } from "@/components/ui/status-badge";
import type { ShardsAnswer } from "@/lib/knn/shards";

/** The indexers of the group behind the shard counts: each one's partitions and vectors, and which partitions are not counted. */
export function IndexerInstances({ data }: { data: Pick<ShardsAnswer, "instances" | "partial"> }) {
  return (
    <Card title="Indexers" aside={<span data-testid="indexer-count">{data.instances.filter((i) => i.ok).length} of {data.instances.length} answering</span>} data-testid="indexer-instances">
      {data.partial && <PartialNotice partial={data.partial} instances={[]} what="counts" data-testid="shards-partial" />}
      <table className="w-full text-left text-xs">
        <thead className="text-muted"><tr><th className="px-4 py-1.5">instance</th><th>address</th><th>partitions</th><th>vectors</th><th>status</th></tr></thead>
        <tbody>
          {data.instances.map((i) => (
            <tr key={`${i.instance} ${i.url}`} className="border-t border-line" data-testid="indexer-instance">
              <td className="px-4 py-1.5 font-mono">{i.instance}</td>
              <td className="font-mono text-muted">{i.url}</td>
              <td className="tabular-nums">{i.partitions.length > 0 ? i.partitions.join(", ") : "—"}</td>
              <td className="tabular-nums">{i.total_ids === null ? "—" : formatCount(i.total_ids)}</td>
              <td><StatusBadge tone={i.ok ? "ok" : "down"} label={i.ok ? "ok" : (i.error ?? "no answer")} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
