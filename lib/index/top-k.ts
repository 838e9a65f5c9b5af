/** A scored candidate: `score` is cosine similarity, higher is closer. */
export interface Scored<T> {
  item: T;
  score: number;
}

/**
 * The `k` best-scored items seen so far, in a bounded min-heap (the worst kept
 * item on top), so a scan over n candidates costs O(n log k) and O(k) memory.
 */
export class TopK<T> {
  private readonly heap: Scored<T>[] = [];

  constructor(private readonly k: number) {}

  /** Would `score` enter the current top k? */
  accepts(score: number): boolean {
    return this.heap.length < this.k || score > (this.heap[0] as Scored<T>).score;
  }

  push(item: T, score: number): void {
    if (!this.accepts(score)) return;
    const h = this.heap;
    if (h.length < this.k) {
      h.push({ item, score });
      this.siftUp(h.length - 1);
    } else {
      h[0] = { item, score };
      this.siftDown(0);
    }
  }

  get size(): number {
    return this.heap.length;
  }

  /** Best first. */
  sorted(): Scored<T>[] {
    return [...this.heap].sort((a, b) => b.score - a.score);
  }

  private siftUp(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as Scored<T>).score <= (h[i] as Scored<T>).score) return;
      [h[parent], h[i]] = [h[i] as Scored<T>, h[parent] as Scored<T>];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < h.length && (h[l] as Scored<T>).score < (h[min] as Scored<T>).score) min = l;
      if (r < h.length && (h[r] as Scored<T>).score < (h[min] as Scored<T>).score) min = r;
      if (min === i) return;
      [h[min], h[i]] = [h[i] as Scored<T>, h[min] as Scored<T>];
      i = min;
    }
  }
}
