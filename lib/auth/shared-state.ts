/**
 * State shared by proxy.ts and the route handlers. Next 16 runs the proxy in
 * the same Node process as the routes but from a separate bundle, so a
 * module-level variable would exist twice (one copy per bundle): a logout seen
 * by the route would not be seen by the proxy. Both bundles reach the same
 * object through `globalThis` under a registered symbol.
 */
export function processShared<T>(name: string, init: () => T): T {
  const slots = globalThis as unknown as Record<symbol, T | undefined>;
  const key = Symbol.for(`embedline.console.${name}`);
  return (slots[key] ??= init());
}
