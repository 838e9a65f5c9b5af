/**
 * The one percentile rule of the project, for tests and benches as for the
 * workers' /metrics: nearest rank, the smallest sample with at least p% of
 * the samples at or below it (sorted[ceil(p/100 · n) − 1]). The workers' own
 * function (lib/metrics/stage-window.ts), so a bench's p99 and the console's
 * p99 are the same statistic. NaN when there are no samples, so a bench can
 * round it like any figure; JSON writes it as null.
 */
import { percentile as nearestRank } from "../../lib/metrics/stage-window";

/** Nearest-rank percentile of ascending `sorted`. */
export const percentile = (sorted: ArrayLike<number>, p: number): number => nearestRank(sorted, p) ?? NaN;

/** Nearest-rank percentile of samples in any order (sorted here, the input left as it is). */
export const percentileOf = (samples: readonly number[], p: number): number => percentile([...samples].sort((a, b) => a - b), p);
