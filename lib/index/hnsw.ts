import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import usearch from "usearch";

export interface HnswParams {
  /** Links per node (M). */
  connectivity: number;
  /** Candidate list while inserting (efConstruction). */
  efAdd: number;
  /** Candidate list while searching (ef). */
  efSearch: number;
}

export type HnswGraph = InstanceType<typeof usearch.Index>;

/**
 * An HNSW graph over unit vectors with the inner-product metric
 * (distance = 1 − cosine). f32 storage: the exact scan keeps its own copy, and
 * quantising the graph's copy would cost recall for memory this index can spare.
 */
export function createGraph(dim: number, p: HnswParams): HnswGraph {
  return new usearch.Index({
    dimensions: dim,
    metric: usearch.MetricKind.IP,
    quantization: usearch.ScalarKind.F32,
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
  size: number;
}

/**
 * The index's HNSW graph saved to disk is a cache, never the truth (LMDB is):
 * a snapshot is a graph file plus the keys it holds, both named by a generation
 * number, and a manifest naming the current generation, replaced by rename. A
 * crash at any point leaves either the old or the new snapshot whole, and
 * whatever a snapshot misses is replayed from LMDB at start (see
 * IndexGraph.restore).
 */
export class GraphSnapshots {
  constructor(private readonly dir: string) {}

  save(graph: HnswGraph, keys: BigUint64Array, dim: number, p: HnswParams): void {
    const dir = this.dir;
    mkdirSync(dir, { recursive: true });
    const previous = this.readManifest();
    const generation = (previous?.generation ?? 0) + 1;
    graph.save(path.join(dir, `g${generation}.usearch`));
    writeFileSync(path.join(dir, `g${generation}.keys`), Buffer.from(keys.buffer, keys.byteOffset, keys.byteLength));
    const manifest: Manifest = { generation, dim, connectivity: p.connectivity, efAdd: p.efAdd, size: keys.length };
    const tmp = path.join(dir, "manifest.json.tmp");
    writeFileSync(tmp, JSON.stringify(manifest));
    renameSync(tmp, path.join(dir, "manifest.json"));
    if (previous) this.remove(previous.generation);
    this.removeShardSnapshots();
  }

  /**
   * The saved graph and the keys it holds, or null when there is none or it was
   * built with other parameters (then the caller rebuilds from LMDB).
   */
  load(dim: number, p: HnswParams): { graph: HnswGraph; keys: BigUint64Array } | null {
    const m = this.readManifest();
    if (!m || m.dim !== dim || m.connectivity !== p.connectivity || m.efAdd !== p.efAdd) return null;
    const file = path.join(this.dir, `g${m.generation}.usearch`);
    const keysFile = path.join(this.dir, `g${m.generation}.keys`);
    if (!existsSync(file) || !existsSync(keysFile)) return null;
    const graph = createGraph(dim, p);
    graph.load(file);
    const raw = readFileSync(keysFile);
    const keys = new BigUint64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    if (keys.length !== m.size || graph.size() !== m.size) return null;
    return { graph, keys };
  }

  private readManifest(): Manifest | null {
    try {
      return JSON.parse(readFileSync(path.join(this.dir, "manifest.json"), "utf8")) as Manifest;
    } catch {
      return null;
    }
  }

  private remove(generation: number): void {
    rmSync(path.join(this.dir, `g${generation}.usearch`), { force: true });
    rmSync(path.join(this.dir, `g${generation}.keys`), { force: true });
  }

  /** Per-shard graphs saved by earlier versions (one graph per shard): the index-wide graph replaces them. */
  private removeShardSnapshots(): void {
    for (const entry of readdirSync(this.dir)) {
      if (/^shard-\d+$/.test(entry)) rmSync(path.join(this.dir, entry), { recursive: true, force: true });
    }
  }
}
