import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { createLogger } from "@/lib/log";
import type { Poller } from "@/lib/sse/poller";
import { STREAM_NAMES, streamPoller } from "@/lib/sse/streams";
import { slimEvent } from "./slim";
import { HistoryStore } from "./store";

/**
 * Subscribe `store` to each named poller, for good. A poller polls while it has
 * a subscriber, so with this one every upstream is polled from the console's
 * boot whether or not a browser is open: that is the price of history on load
 * (one Kafka admin round per 3 s for lag, one HTTP GET per 3–5 s per upstream).
 * The time of an event is when its poll ended (the server's clock). What is
 * kept of each event: see slim.ts.
 */
export function recordStreams(store: HistoryStore, names: readonly string[], pollerOf: (name: string) => Poller<unknown>): () => void {
  const unsubscribe = names.map((name) => pollerOf(name).subscribe((e) => store.add(name, slimEvent(name, e.data))));
  return () => unsubscribe.forEach((u) => u());
}

const KEY = Symbol.for("embedline.history.recorder");
interface Recorder {
  store: Promise<HistoryStore>;
  stop: () => void;
}
const slot = () => globalThis as { [KEY]?: Recorder };

/**
 * The console's history recorder, started once per server process (from
 * instrumentation.ts, and by the first /api/history request if that came first).
 * Lives on globalThis as the pollers do: Next may evaluate this module once per
 * route bundle. Never rejects: a history directory that cannot be read leaves an
 * in-memory history and a warning, not a console that fails to boot.
 */
export function historyRecorder(): Promise<HistoryStore> {
  const g = slot();
  g[KEY] ??= launch();
  return g[KEY].store;
}

/** Unsubscribe the recorder and forget it (tests; the console records until it exits). */
export async function stopHistoryRecorder(): Promise<void> {
  const g = slot();
  const recorder = g[KEY];
  if (!recorder) return;
  const store = await recorder.store;
  recorder.stop();
  await store.flush();
  delete g[KEY];
}

function launch(): Recorder {
  let unsubscribe = () => {};
  const store = start((stop) => (unsubscribe = stop));
  return { store, stop: () => unsubscribe() };
}

async function start(onStarted: (stop: () => void) => void): Promise<HistoryStore> {
  const config = consoleConfig();
  const log = createLogger("console", config.logLevel).child({ component: "history" });
  const store = new HistoryStore({ dir: config.history.dir, windowMs: config.history.windowMs, log });
  try {
    await store.load(STREAM_NAMES);
  } catch (err) {
    log.warn({ err: (err as Error).message, dir: config.history.dir }, "history could not be loaded; starting empty");
  }
  onStarted(recordStreams(store, STREAM_NAMES, (name) => streamPoller(name as (typeof STREAM_NAMES)[number])));
  log.info({ streams: STREAM_NAMES.length, windowMs: config.history.windowMs, dir: config.history.dir }, "history recorder started");
  return store;
}
