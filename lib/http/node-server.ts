import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, type ApiErrorBody } from "./api-error";

/**
 * Low-level helpers for the workers' node:http servers, used by the kit in
 * `worker-server.ts` (workers do not call them directly).
 *
 * Error bodies: the console's shape `{error: {code, message}}` plus a `type`
 * ("invalid_request_error" for a 4xx, "server_error" for a 5xx) — the field
 * OpenAI-style clients of the embedding service read. Every worker sends it, so
 * there is one worker error shape; the console's own routes do not.
 */
export interface WorkerErrorBody extends ApiErrorBody {
  error: ApiErrorBody["error"] & { type: "invalid_request_error" | "server_error" };
}

export function errorBody(status: number, code: string, message: string): WorkerErrorBody {
  return { error: { code, message, type: status >= 500 ? "server_error" : "invalid_request_error" } };
}

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
  sendJson(res, err.status, errorBody(err.status, err.code, err.message), { "cache-control": "no-store", ...err.headers });
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
          reject(new ApiError(400, "invalid_json", text.trim() === "" ? "request body is empty; expected JSON" : "request body is not valid JSON"));
        }
      });
    });
    // The client went away mid-body: nobody is left to answer.
    req.once("error", (err) => settle(() => reject(err)));
    req.once("aborted", () => settle(() => reject(new Error("client closed the connection"))));
  });
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, "body_too_large", `request body is larger than ${limit} bytes`);
}
