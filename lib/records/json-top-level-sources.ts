/**
 * The source text of each member of a JSON object's top level, by key (the
 * last occurrence wins, as in JSON.parse). Lets a numeric id keep the exact
 * digits it was written with — JSON.parse rounds integers beyond 2^53.
 *
 * Precondition: `json` is text that JSON.parse accepted as an object. No
 * validation happens here; on other input the result is meaningless.
 */
export function jsonTopLevelSources(json: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = skipWhitespace(json, 0) + 1; // past "{"
  for (;;) {
    i = skipWhitespace(json, i);
    if (json[i] !== '"') break; // "}" of an empty object
    const keyEnd = endOfString(json, i);
    const key = JSON.parse(json.slice(i, keyEnd)) as string;
    const valueStart = skipWhitespace(json, skipWhitespace(json, keyEnd) + 1); // past ":"
    const valueEnd = endOfValue(json, valueStart);
    out.set(key, json.slice(valueStart, valueEnd));
    i = skipWhitespace(json, valueEnd);
    if (json[i] !== ",") break;
    i += 1;
  }
  return out;
}

/** JSON's four whitespace characters only (space, tab, LF, CR). */
function skipWhitespace(s: string, i: number): number {
  while (i < s.length && (s[i] === " " || s[i] === "\t" || s[i] === "\n" || s[i] === "\r")) i += 1;
  return i;
}

/** `s[i]` is an opening quote; returns the index just past the closing one. */
function endOfString(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j += 1) {
    if (s[j] === "\\") j += 1;
    else if (s[j] === '"') return j + 1;
  }
  return s.length;
}

function endOfValue(s: string, i: number): number {
  const c = s[i];
  if (c === '"') return endOfString(s, i);
  if (c === "{" || c === "[") {
    let depth = 0;
    for (let j = i; j < s.length; j += 1) {
      const d = s[j];
      if (d === '"') j = endOfString(s, j) - 1;
      else if (d === "{" || d === "[") depth += 1;
      else if (d === "}" || d === "]") {
        depth -= 1;
        if (depth === 0) return j + 1;
      }
    }
    return s.length;
  }
  // number, true, false, null
  let j = i;
  while (j < s.length && !",}] \t\n\r".includes(s[j] as string)) j += 1;
  return j;
}
