/**
 * Thrown by a probe to stop waiting at once (a process it waits on has
 * exited, say): any other error is taken as "not yet" and retried.
 */
export class GiveUp extends Error {}

/**
 * Poll `probe` until it returns a value other than undefined/false, or fail
 * after `timeoutMs` with `what` in the message. Tests synchronise on conditions,
 * never on sleeps.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw new Error(`gave up waiting for ${what}: ${err.message}`);
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
}
