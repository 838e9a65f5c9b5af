import { isWellFormedUnicode } from "./well-formed";

/**
 * Reading a raw Kafka value (parse rules 1–2; the full list is in
 * parse-raw-message.ts).
 */

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The value's bytes decoded as UTF-8, strictly: invalid UTF-8 gives `null`
 * (reason `invalid_unicode`) rather than U+FFFD replacements, and a leading
 * byte-order mark is kept as U+FEFF, not stripped. A string value is taken as
 * is, but a string with a lone UTF-16 surrogate gives `null` as well — it has
 * no UTF-8 form.
 */
export function decodeValue(value: Buffer | Uint8Array | string): string | null {
  if (typeof value === "string") return isWellFormedUnicode(value) ? value : null;
  try {
    return utf8.decode(value);
  } catch {
    return null;
  }
}

/** A decoded value: a JSON object's top-level fields, or anything else as raw text. */
export type ReadValue =
  | { kind: "object"; raw: string; fields: Readonly<Record<string, unknown>> }
  | { kind: "raw"; raw: string };

/**
 * Only a JSON object (RFC 8259 text whose top value is `{…}`) is read as
 * fields. Everything else — text that is not JSON, a JSON array, a JSON string
 * literal such as `"hello"` (quotes included), a number, `true`, `null` — is
 * raw text, exactly as decoded. JSON's own whitespace (space, tab, LF, CR)
 * may surround the object; a byte-order mark may not (it makes the value raw).
 * `NaN`/`Infinity` are not JSON. Duplicate keys: the last one wins.
 */
export function readValue(raw: string): ReadValue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { kind: "raw", raw };
  }
  if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
    return { kind: "object", raw, fields: parsed as Record<string, unknown> };
  }
  return { kind: "raw", raw };
}
