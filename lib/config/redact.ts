/**
 * What a process shows of its configuration (the embed-worker's GET /config,
 * the console's health targets, start-up log lines) goes through here, so a
 * secret is hidden the same way everywhere:
 *
 * - a field whose name says it holds a credential (`token`, `apiKey`,
 *   `controlToken`, `password`, `secret`, …) → "[redacted]" when set, null when not;
 * - inside any string, every URL's user-info (`https://user:pass@host` →
 *   `https://***:***@host`, `https://user@host` → `https://***@host`; the host
 *   stays visible, so the operator still sees where it points) and the values
 *   of query parameters with credential names (`?token=…` → `?token=[redacted]`).
 *
 * Other strings, numbers and booleans are shown as they are.
 */

export const REDACTED = "[redacted]";

/** Query parameters whose values are credentials (compared lower-case, `-` read as `_`). */
const SECRET_PARAMS = new Set(["token", "key", "apikey", "api_key", "password", "passwd", "pass", "secret", "access_token", "refresh_token", "client_secret", "auth", "sig", "signature"]);

/** Config field names that hold a credential: every variable marked `secret` in variables.ts is parsed into one of these. */
const SECRET_FIELD = /(token|secret|password|passwd|api_?key|credential)$/i;

/**
 * `scheme://` then the authority up to the first `/`, `?`, `#` or whitespace,
 * then the rest up to whitespace; neither runs past a comma that starts the
 * next URL of a list (INFERMESH_URL=https://u:p@a,https://v:q@b), so each
 * URL of a list is redacted on its own.
 */
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/)((?:(?!,[a-z][a-z0-9+.-]*:\/\/)[^\s/?#])*)((?:(?!,[a-z][a-z0-9+.-]*:\/\/)\S)*)/gi;

/** Every URL inside `text` with its user-info masked and its credential query values replaced; the rest untouched. */
export function redactUrl(text: string): string {
  return text.replace(URL_IN_TEXT, (_all, scheme: string, authority: string, rest: string) => scheme + maskUserInfo(authority) + redactQuery(rest));
}

function maskUserInfo(authority: string): string {
  const at = authority.lastIndexOf("@");
  if (at === -1) return authority;
  const userInfo = authority.slice(0, at);
  return `${userInfo.includes(":") ? "***:***" : "***"}@${authority.slice(at + 1)}`;
}

/** `rest` is the path, query and fragment; credential parameters in the query (and in a fragment of the same shape) are replaced. */
function redactQuery(rest: string): string {
  return rest.replace(/([?&#;])([^=&#;]*)=([^&#;]*)/g, (all, sep: string, name: string) => (isSecretParam(name) ? `${sep}${name}=${REDACTED}` : all));
}

function isSecretParam(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name.replace(/\+/g, " "));
  } catch {
    // a malformed escape: judge the raw name
  }
  return SECRET_PARAMS.has(decoded.trim().toLowerCase().replace(/-/g, "_"));
}

export type Redacted<T> = T extends string
  ? string
  : T extends readonly (infer U)[]
    ? Redacted<U>[]
    : T extends object
      ? { [K in keyof T]: Redacted<T[K]> | string | null }
      : T;

/**
 * A deep copy of `value` fit to show: credential fields replaced (null when
 * unset, so the reader still sees whether one is configured), URLs in every
 * string redacted by `redactUrl`. Cycles are not expected in configuration and
 * are cut ("[cycle]").
 */
export function redactConfig<T>(value: T): Redacted<T> {
  return walk(value, undefined, new WeakSet()) as Redacted<T>;
}

function walk(value: unknown, key: string | undefined, seen: WeakSet<object>): unknown {
  if (key !== undefined && SECRET_FIELD.test(key) && (value === undefined || value === null || typeof value !== "object")) {
    return value === undefined || value === null || value === "" ? null : REDACTED;
  }
  if (typeof value === "string") return redactUrl(value);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[cycle]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, undefined, seen));
  if (value instanceof URL) return redactUrl(value.href);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = walk(v, k, seen);
  return out;
}
