import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import usearch from "usearch";

export interface HnswParams {
  /** Links per node (M). */
  connectivity: number;
  /** Candidate list while inserting (efConstruction). */
  efAdd: number;
  /** Candidate list while searching (ef). */
  efSearch: number;
  /** How the graph stores vectors in memory (INDEX_QUANTIZATION); default DEFAULT_QUANTIZATION. LMDB keeps f32 either way. */
  quantization?: Quantization;
}

/** Vector storage of the graph: 4, 2 or 1 byte per dimension (usearch ScalarKind). */
export const QUANTIZATIONS = ["f32", "f16", "i8"] as const;
export type Quantization = (typeof QUANTIZATIONS)[number];

/**
 * f16: half the memory of f32 for the same recall@10 at 100k and 1M 384-dim
 * vectors (bench/results/knn.json); i8 halves it again at a measurable recall cost.
 */
export const DEFAULT_QUANTIZATION: Quantization = "f16";

const SCALAR = { f32: usearch.ScalarKind.F32, f16: usearch.ScalarKind.F16, i8: usearch.ScalarKind.I8 } as const;

/** Bytes of one vector as the graph stores it. */
export const vectorBytes = (dim: number, q: Quantization = DEFAULT_QUANTIZATION) => dim * (q === "f32" ? 4 : q === "f16" ? 2 : 1);

export type HnswGraph = InstanceType<typeof usearch.Index>;

/**
 * An HNSW graph over unit vectors with the inner-product metric
 * (distance = 1 − cosine), storing its vectors as `p.quantization` says. It is
 * the only in-memory copy of the vectors: exact scans read LMDB's f32.
 */
export function createGraph(dim: number, p: HnswParams): HnswGraph {
  return new usearch.Index({
    dimensions: dim,
    metric: usearch.MetricKind.IP,
    quantization: SCALAR[p.quantization ?? DEFAULT_QUANTIZATION],
    connectivity: p.connectivity,
    expansion_add: p.efAdd,
    expansion_search: p.efSearch,
    multi: false,
  });
}

interface Manifest {
  generation: number;
  dim: number;
  connectivity: number;
  efAdd: number;
  /** Absent from snapshots saved before quantization was a choice (they were f32). */
  quantization?: Quantization;
  size: number;
}

/**
 * The index's HNSW graph saved to disk is a cache, never the truth (LMDB is):
 * a snapshot is a graph file named by a generation number (the keys it holds
 * are read back from the graph itself), and a manifest naming the current
 * generation, replaced by rename. A
 * crash at any point leaves either the old or the new snapshot whole, and
 * whatever a snapshot misses is replayed from LMDB at start (see
 * IndexGraph.restore).
 */
export class GraphSnapshots {
  constructor(private readonly dir: string) {}

  /**
   * Write `graph` (holding `keys`) as the next generation. The graph is written
   * on another thread (usearch's saveAsync, patches/usearch+*.patch): the
   * caller must not change it until this settles.
   */
  async save(graph: HnswGraph, dim: number, p: HnswParams): Promise<void> {
    const dir = this.dir;
    mkdirSync(dir, { recursive: true });
    const previous = this.readManifest();
    const generation = (previous?.generation ?? 0) + 1;
    const size = graph.size();
    await graph.saveAsync(path.join(dir, `g${generation}.usearch`));
    const manifest: Manifest = { generation, dim, connectivity: p.connectivity, efAdd: p.efAdd, quantization: p.quantization ?? DEFAULT_QUANTIZATION, size };
    const tmp = path.join(dir, "manifest.json.tmp");
    writeFileSync(tmp, JSON.stringify(manifest));
    renameSync(tmp, path.join(dir, "manifest.json"));
    // Unlinking a graph file of a gigabyte takes tens of milliseconds: off the thread.
    if (previous) await this.remove(previous.generation);
    this.removeShardSnapshots();
  }

  /**
   * The saved graph and the keys it holds, or why it cannot be used (then the
   * caller rebuilds from LMDB): `none`, or `params` (built with another
   * dimension, connectivity, efAdd or quantization).
   */
  load(dim: number, p: HnswParams): { graph: HnswGraph; keys: BigUint64Array } | { unusable: "none" | "params" } {
    const m = this.readManifest();
    if (!m) return { unusable: "none" };
    if (m.dim !== dim || m.connectivity !== p.connectivity || m.efAdd !== p.efAdd || (m.quantization ?? "f32") !== (p.quantization ?? DEFAULT_QUANTIZATION)) return { unusable: "params" };
    const file = path.join(this.dir, `g${m.generation}.usearch`);
    if (!existsSync(file)) return { unusable: "none" };
    const graph = createGraph(dim, p);
    graph.load(file);
    if (graph.size() !== m.size) return { unusable: "none" };
    return { graph, keys: graph.keys() };
  }

  private readManifest(): Manifest | null {
    try {
      return JSON.parse(readFileSync(path.join(this.dir, "manifest.json"), "utf8")) as Manifest;
    } catch {
      return null;
    }
  }

  /** A generation's graph, and the list of its keys snapshots kept beside it before the graph gave them back. */
  private async remove(generation: number): Promise<void> {
    await rm(path.join(this.dir, `g${generation}.usearch`), { force: true });
    await rm(path.join(this.dir, `g${generation}.keys`), { force: true });
  }

  /** Per-shard graphs saved by earlier versions (one graph per shard): the index-wide graph replaces them. */
  private removeShardSnapshots(): void {
    for (const entry of readdirSync(this.dir)) {
      if (/^shard-\d+$/.test(entry)) rmSync(path.join(this.dir, entry), { recursive: true, force: true });
    }
  }
}
