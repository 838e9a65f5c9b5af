/**
 * Shared display formatters: one place decides how numbers and times look.
 * Figures carry their unit and are never cut mid-way: where space is short a
 * compact form (`12.3k`, `4.5 MB`) is shown and the full value goes in a
 * tooltip (`title`), see `Stat`.
 */

export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Axis ticks: as short as the value allows (`0 ms`, `75 µs`, `2.5 ms`, `40 ms`, `1.2 s`): never wider than a 56 px axis. */
export function formatLatencyTick(ms: number): string {
  if (ms >= 1000) return `${Number((ms / 1000).toPrecision(2))} s`;
  if (ms > 0 && ms < 1) return `${Number((ms * 1000).toPrecision(2))} µs`;
  return `${Number(ms.toPrecision(2))} ms`;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });

/** Wall-clock time of day (local), e.g. `14:03:22`. */
export function formatClock(time: number | string | Date): string {
  const d = time instanceof Date ? time : new Date(time);
  return Number.isNaN(d.getTime()) ? "—" : clock.format(d);
}

/** Counts with thousands separators; `—` for unknown. */
export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? "—" : Math.round(n).toLocaleString("en-US");
}

/**
 * A count in at most four significant characters and a unit: `206`, `1.2k`,
 * `65.4k`, `3.1M`, `2.0G`; `—` for unknown. Pair it with `formatCount` in a
 * tooltip where the exact figure matters.
 */
export function formatCompact(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  const abs = Math.abs(n);
  if (abs < 1000) return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(3)));
  const units: [number, string][] = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (let i = units.length - 1; i >= 0; i--) {
    const [size, unit] = units[i]!;
    const v = n / size;
    // 999.95k rounds to "1000k": take the next unit instead.
    if (Math.abs(Number(v.toPrecision(3))) < 1000 || i === 0) return `${Number(v.toPrecision(3))}${unit}`;
  }
  return String(n);
}

/** A rate per second, short: `0`, `3.4/s`, `1,200/s`. */
export function formatRate(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  return `${n < 10 ? Number(n.toFixed(1)) : Math.round(n).toLocaleString("en-US")}/s`;
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** A duration in seconds, short: `45 s`, `12 min`, `3.2 h`. */
export function formatDuration(sec: number | null | undefined): string {
  if (sec === null || sec === undefined || !Number.isFinite(sec)) return "—";
  if (sec < 90) return `${Math.round(sec)} s`;
  if (sec < 5400) return `${Math.round(sec / 60)} min`;
  return `${(sec / 3600).toFixed(1)} h`;
}
