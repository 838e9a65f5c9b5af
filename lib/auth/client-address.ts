/** Longest client key kept: a header an attacker writes must not become a megabyte map key. */
const MAX_ADDRESS_CHARS = 64;

/**
 * The client's address as the console can know it, for per-client limits
 * (login backoff, SSE caps). Route handlers see no socket, only headers, and
 * Next's server sets `x-forwarded-for` from the socket only when the client
 * sent none. So:
 * - `trustProxy` (CONSOLE_TRUST_PROXY=1): one trusted proxy appends the address
 *   it saw, so the rightmost entry is the real peer, whatever the client wrote
 *   to its left.
 * - not trusted: the same rightmost entry, which is the socket address when the
 *   client sent no header, and otherwise whatever the client chose. A client can
 *   therefore pose as many clients: every per-client limit must be backed by a
 *   global one.
 * The answer is normalised (port, brackets and the IPv4-mapped `::ffff:` prefix
 * removed, lower case) and bounded; "unknown" when nothing usable is there.
 */
export function clientAddress(headers: Headers, trustProxy: boolean): string {
  const forwarded = headers.get("x-forwarded-for") ?? "";
  // Both modes read the rightmost hop; see above for why that is all the console can do without a socket.
  void trustProxy;
  const last = forwarded.split(",").map((s) => s.trim()).filter(Boolean).at(-1);
  return last ? normalize(last) : "unknown";
}

function normalize(raw: string): string {
  let a = raw.toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) a = bracketed[1]!;
  else if (/^[^:]+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(":")); // IPv4 or a name with a port
  if (a.startsWith("::ffff:") && /^::ffff:\d+\.\d+\.\d+\.\d+$/.test(a)) a = a.slice("::ffff:".length);
  return a.slice(0, MAX_ADDRESS_CHARS);
}
