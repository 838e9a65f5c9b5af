import { TEXT_FIELDS } from "./agent-result";
import type { ReadValue } from "./decode-value";

/**
 * The text to embed (parse rule 3): the value of the first of `text`,
 * `message`, `content`, `prompt`, `body` at the object's top level whose value
 * is a JSON string — even an empty one (which then fails as `empty_text`; later
 * fields are not consulted). Fields holding numbers, booleans, null, objects or
 * arrays are skipped. Nested fields are never looked at. With no such field, or
 * for a value that is not a JSON object, the text is the whole raw value as
 * decoded. The text is never trimmed or otherwise altered.
 */
export function extractText(value: ReadValue): string {
  if (value.kind === "object") {
    for (const field of TEXT_FIELDS) {
      const v = Object.hasOwn(value.fields, field) ? value.fields[field] : undefined;
      if (typeof v === "string") return v;
    }
  }
  return value.raw;
}

/**
 * The characters that count as whitespace when deciding whether text is empty:
 * exactly ECMAScript's WhiteSpace and LineTerminator sets (what
 * String.prototype.trim removes), listed here so the Python port can use the
 * same class — Python's str.isspace() differs (it adds U+001C–U+001F and U+0085,
 * and lacks U+FEFF).
 */
export const WHITESPACE_CLASS = "[\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]";

const blank = new RegExp(`^${WHITESPACE_CLASS}*$`, "u");

/** True for "" and for text made only of WHITESPACE_CLASS characters. */
export function isBlankText(text: string): boolean {
  return blank.test(text);
}
