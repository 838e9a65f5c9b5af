import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "./api-error";

/**
 * Low-level helpers for the workers' node:http servers, used by the kit in
 * `worker-server.ts` (workers do not call them directly). Error answers carry
 * the one error body of `./error-codes.ts`, as the console's routes do.
 */

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

export function sendText(res: ServerResponse, status: number, body: string, contentType: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function sendApiError(res: ServerResponse, err: ApiError): void {
  sendJson(res, err.status, err.body, { "cache-control": "no-store", ...err.headers });
}

// A refused body is read and dropped up to this much before the 413 goes out:
// answering a client still sending and then closing the socket (connection:
// close) resets the connection, and the client never reads the 413. Past these
// bounds the client is abusive, not unlucky, and gets the answer at once.
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 10_000;

/**
 * Read a JSON body of at most `limit` bytes: 413 above it (after draining what
 * the client still sends, within the bounds above), 400 when it is not JSON.
 * Nothing past the limit is kept in memory.
 */
export function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit + DRAIN_MAX_BYTES) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] | undefined = [];
    let size = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const refuse = () => settle(() => reject(tooLarge(limit)));
    const startRefusing = () => {
      chunks = undefined;
      timer = setTimeout(refuse, DRAIN_MAX_MS);
    };
    if (Number.isFinite(declared) && declared > limit) startRefusing();
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (!chunks) {
        if (size > limit + DRAIN_MAX_BYTES) refuse();
        return;
      }
      if (size > limit) return startRefusing();
      chunks.push(chunk);
    });
    req.once("end", () => {
      if (!chunks) return refuse();
      const text = Buffer.concat(chunks).toString("utf8");
      settle(() => {
        try {
          resolve(JSON.parse(text) as unknown);
        } catch {
          reject(new ApiError("invalid_json", text.trim() === "" ? "request body is empty; expected JSON" : "request body is not valid JSON"));
        }
      });
    });
    // The client went away mid-body: nobody is left to answer.
    req.once("error", (err) => settle(() => reject(err)));
    req.once("aborted", () => settle(() => reject(new Error("client closed the connection"))));
  });
}

function tooLarge(limit: number): ApiError {
  return new ApiError("body_too_large", `request body is larger than ${limit} bytes`);
}
