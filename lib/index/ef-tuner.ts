/** Recall at least this far above target counts as comfortable. */
const MARGIN = 0.03;
/** Comfortable checks in a row before ef is halved (at 30 s a check, 5 min). */
const CHECKS_BEFORE_LOWERING = 10;

/**
 * Keeps HNSW search's candidate list (ef) just large enough for the recall
 * target, from the live recall checks. A graph that grows past what the
 * configured ef serves (64 gave recall@10 0.997 at 100k vectors, far less near
 * 1M, where 512 gave 0.993 — bench/results/knn.json) gets ef doubled after the
 * first check below target, up to `ceiling`; after a long run of comfortable
 * checks it is halved again, never below `floor` (the configured ef).
 */
export class EfTuner {
  private comfortable = 0;
  private ef: number;

  constructor(
    private readonly floor: number,
    private readonly ceiling: number,
    private readonly target: number,
  ) {
    this.ef = floor;
  }

  get current(): number {
    return this.ef;
  }

  /** Take one recall check (measured at `current`); returns the ef to search with from now on. */
  observe(recall: number): number {
    if (recall < this.target) {
      this.comfortable = 0;
      this.ef = Math.min(this.ceiling, this.ef * 2);
    } else if (recall >= this.target + MARGIN && this.ef > this.floor) {
      if (++this.comfortable >= CHECKS_BEFORE_LOWERING) {
        this.comfortable = 0;
        this.ef = Math.max(this.floor, Math.floor(this.ef / 2));
      }
    } else {
      this.comfortable = 0;
    }
    return this.ef;
  }
}
