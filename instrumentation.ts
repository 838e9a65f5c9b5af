/**
 * Next.js calls `register()` once when a server instance starts, before it
 * serves a request. Parsing the console's configuration here means a bad
 * variable stops the console at boot with one line on stderr (exit code 2),
 * instead of failing the first request that needs it. It also starts the
 * recorder of the streams' history, so charts can show the last hours on load.
 */
export async function register() {
  // NEXT_RUNTIME is set by Next itself, not by an operator: it selects the
  // runtime being booted and is replaced at build time, so it is not config.
  // eslint-disable-next-line no-restricted-properties
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { consoleConfig } = await import("./lib/config/console");
  consoleConfig();
  // History of every SSE stream from boot (lib/history): its permanent
  // subscription keeps each upstream polled even with no browser open.
  const { historyRecorder } = await import("./lib/history/recorder");
  await historyRecorder();
}
