import { DOC_ID_FIELDS } from "./agent-result";
import type { ReadValue } from "./decode-value";
import { jsonTopLevelSources } from "./json-top-level-sources";
import { sha256Hex } from "./sha256";

/**
 * The document id (parse rule 6): the first of `doc_id`, `id`, `document_id`,
 * `key` at the object's top level that holds a usable id —
 *  - a non-empty JSON string, taken verbatim (not trimmed; " " is an id);
 *  - a JSON number, as its literal exactly as written in the message:
 *    `12345678901234567890` stays those digits (no rounding beyond 2^53),
 *    `1.50` stays "1.50", `1e3` stays "1e3", `-0` stays "-0".
 * Anything else — missing, null, "", true/false, an object, an array — is not
 * an id, and the next field is tried. With none, or for a value that is not a
 * JSON object, the id is sha256 of the text's UTF-8 bytes, lowercase hex.
 */
export function deriveDocId(value: ReadValue, text: string): string {
  return explicitDocId(value) ?? sha256Hex(text);
}

/**
 * The id the message itself carries, by the rule above, or null when it carries
 * none. Known before the text is checked, so a dead-lettered record keeps it.
 */
export function explicitDocId(value: ReadValue): string | null {
  if (value.kind !== "object") return null;
  let sources: Map<string, string> | undefined;
  for (const field of DOC_ID_FIELDS) {
    const v = Object.hasOwn(value.fields, field) ? value.fields[field] : undefined;
    if (typeof v === "string" && v !== "") return v;
    if (typeof v === "number") {
      sources ??= jsonTopLevelSources(value.raw);
      const literal = sources.get(field);
      if (literal !== undefined) return literal;
    }
  }
  return null;
}
