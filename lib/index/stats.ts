import type { VectorIndex } from "./vector-index";

/** Doc_ids shown per shard. */
const SAMPLES = 5;

export interface ShardStats {
  id: number;
  count: number;
  /** Newest doc_ids first. */
  samples: string[];
  /** Estimated resident bytes of the shard's vectors and HNSW graph. */
  bytes: number;
  /** Epoch seconds of the last change since the indexer started, or null. */
  last_update: number | null;
}

/** Body of GET /knn/shards. */
export function shardStats(index: VectorIndex) {
  const shards: ShardStats[] = Array.from({ length: index.opts.shards }, (_, id) => {
    const shard = index.shards[id];
    if (!shard) return { id, count: 0, samples: [], bytes: 0, last_update: null };
    return {
      id,
      count: shard.count,
      samples: shard.count === 0 ? [] : index.newestDocIds(id, SAMPLES),
      bytes: shard.bytes(),
      last_update: shard.lastUpdate === null ? null : shard.lastUpdate / 1000,
    };
  });
  return {
    shards,
    total_ids: shards.reduce((n, s) => n + s.count, 0),
    nonempty: shards.filter((s) => s.count > 0).length,
    dims_by_model: index.dimsByModel(),
    /** The model whose vectors the index holds (one per index; null while empty). */
    model: index.model ?? null,
    timestamp: Date.now() / 1000,
  };
}
