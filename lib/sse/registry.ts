import type { Poller } from "./poller";

/**
 * One poller per upstream per server process. Next.js may evaluate a module
 * once per route bundle, so the map lives on globalThis, not in module scope.
 */
const KEY = Symbol.for("embedline.sse.pollers");
type Registry = Map<string, Poller<unknown>>;

function registry(): Registry {
  const g = globalThis as { [KEY]?: Registry };
  g[KEY] ??= new Map();
  return g[KEY];
}

export function sharedPoller<T>(name: string, create: () => Poller<T>): Poller<T> {
  const map = registry();
  let poller = map.get(name) as Poller<T> | undefined;
  if (!poller) {
    poller = create();
    map.set(name, poller as Poller<unknown>);
  }
  return poller;
}

/** Every poller of this process, by name (benchmarks and tests). */
export function pollers(): ReadonlyMap<string, Poller<unknown>> {
  return registry();
}
