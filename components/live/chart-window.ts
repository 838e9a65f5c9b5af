"use client";

import { useCallback, useSyncExternalStore } from "react";

/** The windows a chart can show, as `/api/history` names them. */
export const CHART_WINDOWS = ["15m", "1h", "6h", "24h"] as const;
export type ChartWindow = (typeof CHART_WINDOWS)[number];
export const DEFAULT_WINDOW: ChartWindow = "15m";

export const WINDOW_MS: Readonly<Record<ChartWindow, number>> = { "15m": 15 * 60_000, "1h": 3_600_000, "6h": 6 * 3_600_000, "24h": 24 * 3_600_000 };
export const WINDOW_LABELS: Readonly<Record<ChartWindow, string>> = { "15m": "15 min", "1h": "1 hour", "6h": "6 hours", "24h": "24 hours" };

/** `?window=` of a URL, or the default for anything else (a stale bookmark, a typo). */
export function parseWindow(value: string | null | undefined): ChartWindow {
  return (CHART_WINDOWS as readonly string[]).includes(value ?? "") ? (value as ChartWindow) : DEFAULT_WINDOW;
}

const CHANGED = "embedline:chart-window";

function subscribe(onChange: () => void) {
  window.addEventListener("popstate", onChange);
  window.addEventListener(CHANGED, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(CHANGED, onChange);
  };
}

const fromLocation = () => parseWindow(new URLSearchParams(window.location.search).get("window"));
const onServer = () => DEFAULT_WINDOW;

/**
 * The page's chart window, kept in the URL (`?window=1h`) so a reload or a
 * shared link shows the same. Read from `location` rather than
 * `useSearchParams`, so the pages stay static (no Suspense boundary needed);
 * written with `history.replaceState`, which Next's router follows, without a
 * navigation or a history entry per click.
 */
export function useChartWindow(): [ChartWindow, (w: ChartWindow) => void] {
  const current = useSyncExternalStore(subscribe, fromLocation, onServer);
  const set = useCallback((w: ChartWindow) => {
    const url = new URL(window.location.href);
    if (w === DEFAULT_WINDOW) url.searchParams.delete("window");
    else url.searchParams.set("window", w);
    window.history.replaceState(null, "", url);
    window.dispatchEvent(new Event(CHANGED));
  }, []);
  return [current, set];
}
