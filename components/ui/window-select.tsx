"use client";

import { CHART_WINDOWS, parseWindow, useChartWindow, WINDOW_LABELS } from "@/components/live/chart-window";

/** The time window every chart of the page shows: 15 min, 1 h, 6 h or 24 h, kept in the URL (`?window=1h`). */
export function WindowSelect() {
  const [value, onChange] = useChartWindow();
  return (
    <label className="flex items-center gap-2 text-xs text-muted">
      window
      <select
        data-testid="window-select"
        value={value}
        onChange={(e) => onChange(parseWindow(e.target.value))}
        className="rounded-md border border-line bg-surface px-2 py-1 text-xs text-fg"
      >
        {CHART_WINDOWS.map((w) => (
          <option key={w} value={w}>
            {WINDOW_LABELS[w]}
          </option>
        ))}
      </select>
    </label>
  );
}
