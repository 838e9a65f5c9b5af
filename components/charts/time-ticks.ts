/**
 * Time-axis ticks chosen from the visible window and the chart's width: the
 * smallest round step (1 min … 1 day, aligned to local wall-clock time) whose
 * labels sit at least MIN_SPACING_PX apart and never overlap. Labels are
 * `HH:MM`; when the window crosses midnight, a tick at midnight says the date.
 */
export interface TimeTick {
  t: number;
  label: string;
}

const MIN = 60_000;
/** Round steps in minutes; each divides a day, so midnight is always a candidate. */
const STEPS_MIN = [1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 360, 720, 1440] as const;
/** Width of one character of an axis label at the charts' 12 px font (digits and `:` are narrower; this errs wide). */
export const CHAR_PX = 7.5;
/** Air between two neighbouring labels. */
export const LABEL_GAP_PX = 10;
/** Below this spacing a time axis reads as a wall of numbers. On a half-page chart at 1440 px (~460 px of plot): 15 min → a tick every 2 min, 1 h → 10 min, 6 h → 1 h, 24 h → 4 h. */
export const MIN_SPACING_PX = 60;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

/** Width a label takes on the axis, gap included (an estimate: the same one the overlap check and tests use). */
export function labelWidthPx(label: string): number {
  return label.length * CHAR_PX + LABEL_GAP_PX;
}

function dayKey(d: Date) {
  return d.getFullYear() * 400 + d.getMonth() * 32 + d.getDate();
}

/** Local `HH:MM`, or the date at midnight when the window spans more than one day. */
export function tickLabel(t: number, withDate: boolean): string {
  const d = new Date(t);
  if (withDate && d.getHours() === 0 && d.getMinutes() === 0) return `${d.getDate()} ${MONTHS[d.getMonth()]}`;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function candidates(from: number, to: number, stepMin: number, withDate: boolean): TimeTick[] {
  const ticks: TimeTick[] = [];
  for (let t = Math.ceil(from / MIN) * MIN; t <= to; t += MIN) {
    const d = new Date(t);
    if ((d.getHours() * 60 + d.getMinutes()) % stepMin === 0) ticks.push({ t, label: tickLabel(t, withDate) });
  }
  return ticks;
}

/** True when every label fits inside [0, widthPx] and no two overlap or sit closer than `minSpacing`. */
export function ticksFit(ticks: readonly TimeTick[], from: number, to: number, widthPx: number, minSpacing = 0): boolean {
  const x = (t: number) => ((t - from) / (to - from)) * widthPx;
  for (let i = 1; i < ticks.length; i++) {
    const gap = x(ticks[i]!.t) - x(ticks[i - 1]!.t);
    if (gap < Math.max(minSpacing, (labelWidthPx(ticks[i]!.label) + labelWidthPx(ticks[i - 1]!.label)) / 2)) return false;
  }
  return true;
}

/**
 * Ticks for the window [from, to] (epoch ms) drawn over `widthPx` pixels. A
 * tick whose label would stick out past either end is left out; so is
 * everything when the chart is too narrow for even one day-step.
 */
export function timeTicks(from: number, to: number, widthPx: number): TimeTick[] {
  if (!(to > from) || !(widthPx > 0)) return [];
  const span = to - from;
  const withDate = dayKey(new Date(from)) !== dayKey(new Date(to));
  for (const step of STEPS_MIN) {
    // Cheap rejection first: a step this short cannot meet the spacing.
    if (((step * MIN) / span) * widthPx < MIN_SPACING_PX) continue;
    const inside = candidates(from, to, step, withDate).filter((tick) => {
      const x = ((tick.t - from) / span) * widthPx;
      const half = labelWidthPx(tick.label) / 2 - LABEL_GAP_PX / 2;
      return x >= half && x <= widthPx - half;
    });
    if (ticksFit(inside, from, to, widthPx, MIN_SPACING_PX)) return inside;
  }
  return [];
}
