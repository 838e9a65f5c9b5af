import type { EfTuner } from "./ef-tuner";
import { searchIndex } from "./search";
import type { Scored } from "./top-k";
import type { VectorIndex } from "./vector-index";

export interface RecallSample {
  /** Epoch ms. */
  ts: number;
  /** Mean over the queries of |HNSW top-10 ∩ exact top-10| / |exact top-10|. */
  recall: number;
  queries: number;
  ms: number;
  /** The HNSW ef the check searched with. */
  ef: number;
}

export interface RecallReport {
  recall_at_10: number | null;
  /** Latest minus the mean of the checks before it (up to TREND_WINDOW): below 0 means recall is falling. */
  trend: number | null;
  direction: "rising" | "falling" | "steady" | null;
  /** The HNSW ef searches use now (EfTuner). */
  ef_search: number;
  history: RecallSample[];
}

const K = 10;
/** Checks kept in `history` (at 30 s a check, the last hour). */
const HISTORY = 120;
/** Checks the trend compares the latest against. */
const TREND_WINDOW = 10;
/** A recall change smaller than this is noise from a few sampled queries. */
const STEADY_BAND = 0.01;

/**
 * Watches HNSW recall live: a check takes the most recently indexed vectors as
 * queries and compares each one's HNSW top-10 with its exact top-10 over the
 * whole index. Queries run one per event-loop turn, so API requests are served
 * between them even when an exact scan over a large index takes a while. Each
 * check also tunes the ef that searches use (`ef`, EfTuner).
 */
export class RecallMonitor {
  private readonly history: RecallSample[] = [];

  constructor(
    private readonly index: VectorIndex,
    private readonly samples: number,
    private readonly tuner: EfTuner,
  ) {}

  /** The HNSW ef to search with: the configured one, raised while recall is below target. */
  get ef(): number {
    return this.tuner.current;
  }

  /**
   * Run one check; resolves to undefined when the index holds too little to
   * measure. The exact top-10 of every sample comes from one pass over the
   * index (each vector read from LMDB once, shard by shard, handing the event
   * loop back between shards), not one scan per sample.
   */
  async check(): Promise<RecallSample | undefined> {
    const started = performance.now();
    const ef = this.tuner.current;
    const samples = this.index.recentDocIds(this.samples).flatMap((docId) => this.index.locate(docId)?.vector ?? []);
    const dim = this.index.dim;
    if (samples.length === 0 || dim === undefined) return undefined;
    const flat = new Float32Array(samples.length * dim);
    samples.forEach((v, i) => flat.set(v, i * dim));
    const truths = samples.map(() => [] as Scored<number>[]);
    for (const shard of this.index.shards) {
      if (shard.count === 0) continue;
      shard.searchExactMany(flat, K).forEach((hits, i) => truths[i]?.push(...hits));
      await new Promise((resolve) => setImmediate(resolve));
    }
    let sum = 0;
    let queries = 0;
    samples.forEach((vector, i) => {
      const truth = new Set((truths[i] as Scored<number>[]).sort((a, b) => b.score - a.score).slice(0, K).map((h) => h.item));
      if (truth.size === 0) return;
      const approx = searchIndex(this.index, vector, { k: K, exact: false, ef });
      sum += approx.neighbors.filter((n) => truth.has(n.item.key)).length / truth.size;
      queries++;
    });
    if (queries === 0) return undefined;
    const sample = { ts: Date.now(), recall: sum / queries, queries, ms: Math.round(performance.now() - started), ef };
    this.tuner.observe(sample.recall);
    this.history.push(sample);
    if (this.history.length > HISTORY) this.history.shift();
    return sample;
  }

  report(): RecallReport {
    const latest = this.history.at(-1);
    const before = this.history.slice(-1 - TREND_WINDOW, -1);
    if (!latest) return { recall_at_10: null, trend: null, direction: null, ef_search: this.ef, history: [] };
    const trend = before.length === 0 ? null : latest.recall - before.reduce((s, x) => s + x.recall, 0) / before.length;
    const direction = trend === null ? null : trend > STEADY_BAND ? "rising" : trend < -STEADY_BAND ? "falling" : "steady";
    return { recall_at_10: latest.recall, trend, direction, ef_search: this.ef, history: [...this.history] };
  }
}
