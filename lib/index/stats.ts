import { cutText } from "./stored-text";
import type { VectorIndex } from "./vector-index";

/** Doc_ids shown per shard. */
const SAMPLES = 5;

/**
 * Characters of a sample's text in /knn/shards: one table cell's worth. 32
 * shards × 5 samples × 80 keep the answer (polled every 5 s by the Shards
 * page) near 20 KB even when every shard is full.
 */
const SAMPLE_TEXT_CHARS = 80;

/** A sample with the start of its text, so the Shards page shows what a shard holds, not only hashes. */
export interface SampleDoc {
  doc_id: string;
  /** The first SAMPLE_TEXT_CHARS characters of the text the index keeps; null when it keeps none. */
  text: string | null;
  /** Longer than shown. */
  text_truncated: boolean;
  /** False: the record had no text (EMBED_STORE_TEXT=0) or was indexed before texts were kept. */
  text_stored: boolean;
}

export interface ShardStats {
  id: number;
  count: number;
  /** Newest doc_ids first. */
  samples: string[];
  /** The same samples with the start of their texts. */
  sample_docs: SampleDoc[];
  /** Estimated resident bytes of the shard's vectors and HNSW graph. */
  bytes: number;
  /** Epoch seconds of the last change since the indexer started, or null. */
  last_update: number | null;
}

/** Body of GET /knn/shards. */
export function shardStats(index: VectorIndex) {
  const shards: ShardStats[] = Array.from({ length: index.opts.shards }, (_, id) => {
    const shard = index.shards[id];
    if (!shard) return { id, count: 0, samples: [], sample_docs: [], bytes: 0, last_update: null };
    const samples = shard.count === 0 ? [] : index.newestDocIds(id, SAMPLES);
    return {
      id,
      count: shard.count,
      samples,
      sample_docs: samples.map((doc_id) => sampleDoc(index, doc_id)),
      bytes: shard.bytes(index.graphVectorBytes),
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

function sampleDoc(index: VectorIndex, docId: string): SampleDoc {
  const stored = index.text(docId);
  if (stored.text === null) return { doc_id: docId, text: null, text_truncated: false, text_stored: false };
  const cut = cutText(stored.text, SAMPLE_TEXT_CHARS);
  return { doc_id: docId, text: cut.text, text_truncated: cut.truncated || stored.text_truncated, text_stored: true };
}
