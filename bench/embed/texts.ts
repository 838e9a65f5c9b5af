/**
 * The texts every embed bench cell sends: deterministic, so two runtimes in
 * two processes embed exactly the same inputs, and unique (a number first),
 * so no layer could answer from a cache.
 */
const WORDS =
  "the operator watches kafka topics while the worker embeds records into vectors and writes them to parquet files for search later on a small cluster with two cores and little memory but steady throughput every hour of the day".split(" ");

/** Words per text of the two kinds: short as a log line or a title, long as a paragraph (~200–250 tokens, under MiniLM's 256). */
export const TEXT_WORDS = { short: 10, long: 200 } as const;
export type TextKind = keyof typeof TEXT_WORDS;

/** Text number `id` of about `words` words. */
export function benchText(id: number, words: number): string {
  const rest = Array.from({ length: words - 1 }, (_, i) => WORDS[(id * 7 + i * 3) % WORDS.length]);
  return `${id} ${rest.join(" ")}`;
}

/** The next texts in sequence: each call of one generator returns texts it never returned before. */
export function textSequence(words: number, start = 0): (count: number) => string[] {
  let next = start;
  return (count) => Array.from({ length: count }, () => benchText(next++, words));
}

export const round1 = (x: number) => Math.round(x * 10) / 10;
