/**
 * Fill REDDB_DLQ_HTTP_PATH: `{ns}`, `{stream}`, `{limit}` become their values
 * URL-encoded as one path or query component, dots included, so `../`, `/`,
 * `?`, `#` and `&` in a value are data, never path or query structure.
 */
export function fillReddbPath(template: string, values: { ns: string; stream: string; limit: number }): string {
  const encode = (v: string) => {
    if (/^\.+$/.test(v)) throw new Error(`a RedDB name of only dots ("${v}") cannot be used in a path`);
    return encodeURIComponent(v).replace(/\./g, "%2E").replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  };
  const filled: Record<string, string> = { ns: encode(values.ns), stream: encode(values.stream), limit: encode(String(values.limit)) };
  return template.replace(/\{(ns|stream|limit)\}/g, (_, k: string) => filled[k] as string);
}
