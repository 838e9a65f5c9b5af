import http from "node:http";

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as text; empty for an event stream (its headers are all a check needs). */
  body: string;
}

export interface Call {
  method?: string;
  /** Path and query, resolved against the console's URL. */
  path: string;
  /** Sent as given: Host, Origin, Sec-Fetch-Site and Cookie included, which fetch() would not let through. */
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Read an event stream to its end too (one that ends: `?once=1`). */
  readStream?: boolean;
}

/**
 * One HTTP/1.1 request to a console with node:http: any header the check
 * needs (a foreign Host, a cross-site Origin) and no cookie jar or redirect
 * following, so each answer is the console's own. An event stream is read up
 * to its headers and then dropped.
 */
export function call(base: string, { method = "GET", path, headers = {}, body, readStream = false }: Call): Promise<Answer> {
  const url = new URL(path, base);
  const sent: Record<string, string> = { ...headers };
  if (body !== undefined && !Object.keys(sent).some((h) => h.toLowerCase() === "content-length")) sent["content-length"] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(url, { method, headers: sent, agent: false, timeout: 30_000 }, (res) => {
      answered = true;
      const done = (text: string) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      if (!readStream && String(res.headers["content-type"] ?? "").includes("text/event-stream")) {
        res.destroy();
        return done("");
      }
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done(Buffer.concat(chunks).toString("utf8")));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from ${method} ${url.pathname} within 30 s`)));
    // A console that answers 413 before reading a large body may close while we still write: its answer counts.
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    req.end(body);
  });
}

/** The JSON error body every console route answers with: `{error: {code, message}}`. */
export function apiError(answer: Answer): { code: string; message: string } {
  try {
    return (JSON.parse(answer.body) as { error: { code: string; message: string } }).error;
  } catch {
    throw new Error(`not a JSON error body (HTTP ${answer.status}): ${answer.body.slice(0, 200)}`);
  }
}

/** `name=value` of a Set-Cookie line for `name`, or undefined. */
export function setCookie(answer: Answer, name: string): { value: string; attributes: string[] } | undefined {
  const lines = answer.headers["set-cookie"] ?? [];
  for (const line of lines) {
    const [pair, ...attributes] = line.split(";").map((s) => s.trim());
    const eq = pair!.indexOf("=");
    if (pair!.slice(0, eq) === name) return { value: pair!.slice(eq + 1), attributes };
  }
  return undefined;
}

/** An event stream held open until `close()`: the console counts it against its SSE caps meanwhile. */
export function openStream(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Promise<string>; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL(path, base), { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      const body = new Promise<string>((done) => res.on("close", () => done(Buffer.concat(chunks).toString("utf8"))));
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body, close: () => req.destroy() });
    });
    req.on("error", reject);
  });
}
