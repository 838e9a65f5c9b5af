"use client";

import Link from "next/link";
import { useShardsQuery } from "@/components/search/use-knn-query";
import { Card } from "@/components/ui/card";
import { formatCount } from "@/components/ui/format";
import { Stat, StatGrid, Unavailable } from "@/components/ui/stat";
import { IndexerInstances } from "./indexer-instances";
import { ShardSizeChart } from "./shard-size-chart";

/** Shard sizes, dims by model, samples per shard, and a sample from the largest shard. */
export function ShardsView() {
  const { data: answer, error } = useShardsQuery();
  const data = answer && "shards" in answer ? answer : undefined;
  const down = answer && "unavailable" in answer ? answer.unavailable.message : error?.message;
  const largest = data?.shards.reduce<(typeof data.shards)[number] | undefined>((a, b) => (!a || b.count > a.count ? b : a), undefined);
  const sample = largest?.samples[0];
  return (
    <div className="grid gap-4" data-testid="shards-page">
      <h1 className="text-lg font-semibold">Shards</h1>
      {down && <Unavailable what="indexer unreachable" message={down} data-testid="shards-error" />}
      {data && (
        <>
          <Card title="Vectors per shard" aside={<span data-testid="shards-total">{formatCount(data.total_ids)} vectors · {data.nonempty} non-empty</span>}>
            <ShardSizeChart shards={data.shards} />
            <StatGrid>
              {/* The label is set in capitals: a model's name (its case matters) goes in the value. */}
              {Object.entries(data.dims_by_model).map(([model, dim]) => <Stat key={model} label="model · dims" value={`${model} · ${dim}`} data-testid="model-dims" />)}
              {sample && (
                <Stat label={`sample from shard ${largest?.id}`} value={<Link className="text-sm text-accent underline" href={`/search?doc_id=${encodeURIComponent(sample)}`} data-testid="sample-largest">{sample}</Link>} />
              )}
            </StatGrid>
          </Card>
          <IndexerInstances data={data} />
          <Card title="Samples per shard">
            <table className="w-full text-left text-xs">
              <thead className="text-muted"><tr><th className="px-4 py-1.5">shard</th><th>count</th><th>samples</th></tr></thead>
              <tbody>
                {data.shards.map((s) => (
                  <tr key={s.id} className="border-t border-line" data-testid="shard-row">
                    <td className="px-4 py-1.5 tabular-nums">{s.id}</td>
                    <td className="tabular-nums">{formatCount(s.count)}</td>
                    <td className="max-w-md py-1.5" data-testid="shard-samples">
                      {/* Each sample by the start of its text (the doc_id in the tooltip), linking to its neighbours; an older indexer sends doc_ids only. */}
                      {(s.sample_docs ?? s.samples.map((doc_id) => ({ doc_id, text: null, text_truncated: false, text_stored: false }))).map((d) => (
                        <Link key={d.doc_id} href={`/search?doc_id=${encodeURIComponent(d.doc_id)}`} title={d.doc_id} className="block truncate hover:text-accent" data-testid="shard-sample">
                          {d.text !== null ? `${d.text}${d.text_truncated ? "…" : ""}` : <span className="font-mono">{d.doc_id}</span>}
                        </Link>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
        </>
      )}
    </div>
  );
}
