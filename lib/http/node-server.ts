import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "./api-error";

/**
 * Helpers for the workers' plain node:http servers (/health, /metrics, control
 * and query endpoints). Errors use the same `ApiError` and body shape as the
 * console's routes: `{error: {code, message, type}}` — `type` keeps the body
 * readable by OpenAI-style clients too.
 */

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

export function sendText(res: ServerResponse, status: number, body: string, contentType: string): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

export function sendApiError(res: ServerResponse, err: ApiError): void {
  const type = err.status >= 500 ? "server_error" : "invalid_request_error";
  sendJson(res, err.status, { error: { code: err.code, message: err.message, type } }, err.headers);
}

/** Read a JSON body of at most `limit` bytes: 413 above it, 400 when it is not JSON. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, "invalid_json", text.trim() === "" ? "request body is empty; expected JSON" : "request body is not valid JSON");
  }
}

function tooLarge(limit: number): ApiError {
  // The rest of the body is not read: the connection closes after the answer.
  return new ApiError(413, "body_too_large", `request body is larger than ${limit} bytes`, { connection: "close" });
}
