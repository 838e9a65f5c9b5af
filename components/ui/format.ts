/** Shared display formatters: one place decides how numbers and times look. */

export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Axis ticks: as short as the value allows (`0 ms`, `2.5 ms`, `40 ms`, `1.2 s`). */
export function formatLatencyTick(ms: number): string {
  if (ms >= 1000) return `${Number((ms / 1000).toPrecision(2))} s`;
  return `${Number(ms.toPrecision(2))} ms`;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });

/** Wall-clock time of day (local), e.g. `14:03:22`. */
export function formatClock(time: number | string | Date): string {
  const d = time instanceof Date ? time : new Date(time);
  return Number.isNaN(d.getTime()) ? "—" : clock.format(d);
}
