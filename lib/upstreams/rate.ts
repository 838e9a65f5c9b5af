/**
 * Per-second rate of a monotonically growing counter between two polls. A
 * counter that went down (the upstream restarted) yields null for that poll.
 */
export function makeRate() {
  let prev: { value: number; at: number } | undefined;
  return (value: number | null | undefined, at = Date.now()): number | null => {
    if (value === null || value === undefined || !Number.isFinite(value)) {
      prev = undefined;
      return null;
    }
    const before = prev;
    prev = { value, at };
    if (!before || at <= before.at || value < before.value) return null;
    return ((value - before.value) * 1000) / (at - before.at);
  };
}

export const nowSec = () => Date.now() / 1000;
