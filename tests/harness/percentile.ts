/**
 * The one percentile rule of the project, for tests and benches as for the
 * workers' /metrics: nearest rank, the smallest sample with at least p% of
 * the samples at or below it (sorted[ceil(p/100 · n) − 1]); null when there
 * are no samples. The workers' function itself, so a bench's p99 and the
 * console's p99 are the same statistic.
 */
import { percentile } from "../../lib/metrics/stage-window";

export { percentile };

/** Nearest-rank percentile of samples in any order (sorted here, the input left as it is). */
export function percentileOf(samples: readonly number[], p: number): number | null {
  return percentile([...samples].sort((a, b) => a - b), p);
}
