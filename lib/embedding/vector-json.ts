/**
 * Each vector's JSON text as the upstream sent it, so a writer can pass it on
 * instead of formatting its 384 numbers again: JSON.stringify of a vector costs
 * about as much as parsing it (~30 µs for short floats, ~60 µs for float32
 * values printed in full), the largest single cost of the embed-worker's
 * Kafka output. The text is the same numbers — any JSON reader gets the values
 * JSON.parse gave us.
 *
 * Every provider's answer holds its vectors as flat arrays of numbers in
 * answer order. This finds the non-empty flat arrays outside strings; only
 * when there are exactly as many as vectors, and each one's first and last numbers are
 * its vector's, are they returned. Otherwise undefined: callers format the
 * parsed vectors themselves (correct, only slower).
 */
export function vectorJsonTexts(body: string, vectors: readonly (readonly number[])[]): string[] | undefined {
  const spans = flatArrays(body, vectors.length);
  if (spans === undefined || spans.length !== vectors.length) return undefined;
  for (let i = 0; i < spans.length; i++) {
    if (!sameEnds(spans[i]!, vectors[i]!)) return undefined;
  }
  return spans;
}

const OPEN_OR_QUOTE = /["[]/g;
const NOT_FLAT = /[[{"]/;

/** The flat arrays (`[` … `]` with no array, object or string inside) outside strings; undefined past `limit`. */
function flatArrays(body: string, limit: number): string[] | undefined {
  const spans: string[] = [];
  const re = new RegExp(OPEN_OR_QUOTE);
  for (let m = re.exec(body); m !== null; m = re.exec(body)) {
    const at = m.index;
    if (body.charCodeAt(at) === 0x22) {
      const end = closingQuote(body, at);
      if (end < 0) return undefined;
      re.lastIndex = end + 1;
      continue;
    }
    const close = body.indexOf("]", at);
    if (close < 0) return undefined;
    const inner = body.slice(at + 1, close);
    // Not flat: the scan goes on inside it (its arrays may be the flat ones).
    if (NOT_FLAT.test(inner)) continue;
    re.lastIndex = close + 1;
    // Empty: never a vector (our own service answers `"truncated":[]`).
    if (inner.trim() === "") continue;
    if (spans.push(body.slice(at, close + 1)) > limit) return undefined;
  }
  return spans;
}

/** Index of the quote closing the string that opens at `open`; -1 if none. */
function closingQuote(body: string, open: number): number {
  for (let at = body.indexOf('"', open + 1); at >= 0; at = body.indexOf('"', at + 1)) {
    let backslashes = 0;
    while (body.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}

function sameEnds(span: string, vector: readonly number[]): boolean {
  if (vector.length === 0 || span.slice(1, -1).trim() === "") return false;
  const firstComma = span.indexOf(",");
  const lastComma = span.lastIndexOf(",");
  const first = Number(span.slice(1, firstComma < 0 ? -1 : firstComma));
  const last = Number(span.slice(lastComma < 0 ? 1 : lastComma + 1, -1));
  return first === vector[0] && last === vector[vector.length - 1] && (firstComma < 0) === (vector.length === 1);
}
