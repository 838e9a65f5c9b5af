import { z } from "zod";
import { partitionProgressSchema, type KnnInstance, type KnnPartial } from "./answer";
import { instancesOf, partialOf, type InstanceOutcome, type ScatterView } from "./scatter";

/** GET /knn/shards of one indexer, as the console reads it. */
export const indexerShardsSchema = z.object({
  shards: z.array(
    z.object({
      id: z.number(),
      count: z.number(),
      samples: z.array(z.string()),
      /** The samples with the start of their texts (absent from older indexers). */
      sample_docs: z.array(z.object({ doc_id: z.string(), text: z.string().nullable(), text_truncated: z.boolean(), text_stored: z.boolean() })).optional(),
      bytes: z.number().nullish(),
      last_update: z.number().nullish(),
    }),
  ),
  total_ids: z.number(),
  nonempty: z.number(),
  dims_by_model: z.record(z.string(), z.number()),
  /** The model whose vectors the index holds (one per index; null while empty, absent from older indexers). */
  model: z.string().nullish(),
  timestamp: z.number(),
  instance: z.string().optional(),
  partitions: z.array(partitionProgressSchema).optional(),
});
export type IndexerShards = z.output<typeof indexerShardsSchema>;
export type ShardRow = IndexerShards["shards"][number];

/** GET /api/knn/shards: every instance's shards summed per shard id, who answered, and which partitions are not counted. */
export type ShardsAnswer = Omit<IndexerShards, "instance" | "partitions"> & {
  instances: (KnnInstance & { total_ids: number | null })[];
  partial: KnnPartial | null;
};

/**
 * Shard `id` on every instance is the same hash bucket of doc_ids, holding the
 * documents of that instance's partitions: the whole index's shard is their
 * sum. Samples: the instances' newest, taken in turn, as many as one instance
 * gives (the indexer sends 5).
 */
export function mergeShards(outcomes: readonly InstanceOutcome<IndexerShards>[], view: ScatterView): ShardsAnswer {
  const answers = outcomes.flatMap((o) => (o.result.ok ? [o.result.answer] : []));
  const byId = new Map<number, ShardRow[]>();
  for (const a of answers) for (const s of a.shards) byId.set(s.id, [...(byId.get(s.id) ?? []), s]);
  const shards = [...byId.entries()]
    .sort(([x], [y]) => x - y)
    .map(([id, rows]) => {
      const most = Math.max(...rows.map((r) => r.samples.length));
      const bytes = rows.map((r) => r.bytes).filter((b): b is number => typeof b === "number");
      const updates = rows.map((r) => r.last_update).filter((t): t is number => typeof t === "number");
      const docs = rows.every((r) => r.sample_docs) ? { sample_docs: interleave(rows.map((r) => r.sample_docs!), most) } : {};
      return {
        id,
        count: rows.reduce((n, r) => n + r.count, 0),
        samples: interleave(rows.map((r) => r.samples), most),
        ...docs,
        bytes: bytes.length > 0 ? bytes.reduce((n, b) => n + b, 0) : null,
        last_update: updates.length > 0 ? Math.max(...updates) : null,
      };
    });
  const dims: Record<string, number> = {};
  for (const a of answers) Object.assign(dims, a.dims_by_model);
  const instances = instancesOf(outcomes).map((inst, i) => {
    const r = outcomes[i]!.result;
    return { ...inst, total_ids: r.ok ? r.answer.total_ids : null };
  });
  return {
    shards,
    total_ids: shards.reduce((n, s) => n + s.count, 0),
    nonempty: shards.filter((s) => s.count > 0).length,
    dims_by_model: dims,
    model: answers.find((a) => a.model)?.model ?? null,
    timestamp: Math.max(0, ...answers.map((a) => a.timestamp)),
    instances,
    partial: partialOf(outcomes, view),
  };
}

/** The lists' items taken in turn (first of each, then second of each…), at most `max`. */
function interleave<T>(lists: readonly (readonly T[])[], max: number): T[] {
  const out: T[] = [];
  for (let i = 0; out.length < max && lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length && out.length < max) out.push(l[i]!);
  return out;
}
