import net from "node:net";

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Write `bytes` as they are on a fresh connection to 127.0.0.1:`port` and read
 * the answer until one whole response arrived or the server closed the socket.
 * For requests no HTTP client would send (broken request lines, bad targets,
 * oversized headers). Rejects when the connection closes with no answer.
 * `head`: the answer to a HEAD request has no body whatever its content-length.
 */
export function rawHttp(port: number, bytes: string | Buffer, opts: { head?: boolean; timeoutMs?: number } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.setTimeout(opts.timeoutMs ?? 30_000, () => socket.destroy(new Error(`no answer from port ${port} within ${opts.timeoutMs ?? 30_000} ms`)));
    let got = Buffer.alloc(0);
    const parse = (): RawAnswer | undefined => {
      const end = got.indexOf("\r\n\r\n");
      if (end === -1) return undefined;
      const [statusLine, ...lines] = got.subarray(0, end).toString("latin1").split("\r\n");
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
      const rest = got.subarray(end + 4);
      const length = Number(headers["content-length"] ?? NaN);
      if (!opts.head && Number.isFinite(length) && rest.length < length) return undefined;
      if (!opts.head && !Number.isFinite(length) && !socket.destroyed && !socket.readableEnded) return undefined;
      return { status: Number(statusLine?.split(" ")[1]), headers, body: rest.toString("utf8") };
    };
    socket.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const answer = parse();
      if (answer) {
        socket.destroy();
        resolve(answer);
      }
    });
    // A server that answered early (a 413 before the body) may close while we still write: the answer counts.
    socket.on("error", (err) => {
      const answer = parse();
      if (answer) resolve(answer);
      else reject(err);
    });
    socket.on("end", () => socket.destroy());
    socket.on("close", () => {
      const answer = parse();
      if (answer) resolve(answer);
      else reject(new Error(`port ${port} closed the connection without a whole answer: ${JSON.stringify(got.toString("latin1").slice(0, 200))}`));
    });
    socket.write(bytes);
  });
}

/** An HTTP/1.1 request as text: request line, host, `connection: close`, extra headers, body. */
export const rawRequest = (line: string, headers: string[] = [], body = "") => [line, "host: 127.0.0.1", "connection: close", ...headers, "", body].join("\r\n");
