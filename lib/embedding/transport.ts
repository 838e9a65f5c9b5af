import "server-only";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool, errors as undiciErrors } from "undici";
import { EmbeddingRejectedError, EmbeddingUnavailableError } from "./errors";

export interface TransportOptions {
  /** Base URL; a path prefix (e.g. behind a proxy) is kept. */
  url: string;
  apiKey?: string;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  connections: number;
  /** Longest single wait between attempts, Retry-After included. */
  maxDelayMs?: number;
}

export interface PostResult {
  /** The answer's body; the caller parses it (decode-answer.ts). */
  text: string;
  rttMs: number;
  attempts: number;
}

// Error bodies are read for their message only; vectors can be large, errors are not.
const ERROR_BODY_LIMIT = 64 * 1024;
// A Retry-After longer than this is not waited out inside one call: the
// caller's own retry policy (e.g. the embed-worker pausing) handles outages.
const DEFAULT_MAX_DELAY_MS = 30_000;

/**
 * A failure worth another attempt, with the delay the upstream asked for if any.
 * `ejects`: the instance itself is failing (connection error, timeout, 5xx), so a
 * balancer takes it out of rotation; a 429 or 408 says it is busy, not broken.
 */
export class Retryable extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    readonly ejects = true,
  ) {
    super(message);
  }
}

/**
 * Delay before retry number `attempt` (1 = the first retry): `backoffMs`
 * doubling, with equal jitter (half fixed, half random, so concurrent clients
 * spread out), at least what Retry-After asked, at most `capMs`.
 */
export function retryDelayMs(backoffMs: number, attempt: number, retryAfterMs: number | undefined, capMs = DEFAULT_MAX_DELAY_MS): number {
  const exp = backoffMs * 2 ** (attempt - 1);
  const jittered = exp / 2 + Math.random() * (exp / 2);
  return Math.min(capMs, Math.max(jittered, retryAfterMs ?? 0));
}

/**
 * POST JSON to one upstream through one keep-alive undici Pool. Each attempt
 * is bounded by `AbortSignal.any([signal, AbortSignal.timeout])`; connection
 * errors, timeouts, 429 and 5xx are retried with exponential backoff and
 * jitter (honouring Retry-After); other 4xx are rejections, never retried.
 * Every response body is consumed so the connection goes back to the pool.
 */
export class Transport {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(private readonly opts: TransportOptions) {
    const u = new URL(opts.url);
    this.basePath = u.pathname.replace(/\/+$/, "");
    this.pool = new Pool(u.origin, { connections: opts.connections, keepAliveTimeout: 30_000 });
  }

  async postJson(path: string, body: unknown, signal?: AbortSignal): Promise<PostResult> {
    const payload = JSON.stringify(body);
    const attemptsAllowed = this.opts.retries + 1;
    let last = "";
    let lastCause: unknown;
    for (let attempt = 1; attempt <= attemptsAllowed; attempt++) {
      signal?.throwIfAborted();
      const started = performance.now();
      try {
        const text = await this.postOnce(path, payload, signal);
        return { text, rttMs: performance.now() - started, attempts: attempt };
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (!(err instanceof Retryable)) throw err;
        last = err.message;
        lastCause = err.cause;
        if (attempt === attemptsAllowed) break;
        await sleep(this.delayMs(attempt, err.retryAfterMs), undefined, { signal });
      }
    }
    throw new EmbeddingUnavailableError(attemptsAllowed, last, { cause: lastCause });
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private fullPath(path: string): string {
    // An OpenAI-style base URL often ends in /v1 already.
    if (this.basePath.endsWith("/v1") && path.startsWith("/v1/")) return this.basePath + path.slice(3);
    return this.basePath + path;
  }

  private delayMs(attempt: number, retryAfterMs: number | undefined): number {
    return retryDelayMs(this.opts.backoffMs, attempt, retryAfterMs, this.opts.maxDelayMs ?? DEFAULT_MAX_DELAY_MS);
  }

  /**
   * One attempt, no retry: the answer's body on 2xx; `Retryable` on a
   * connection error, a timeout, 408, 429 or 5xx; EmbeddingRejectedError on
   * another 4xx. `path` is the API path (e.g. /embed), under the base URL's.
   */
  async postOnce(apiPath: string, payload: string, signal?: AbortSignal): Promise<string> {
    const path = this.fullPath(apiPath);
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const bounded = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    let res;
    try {
      res = await this.pool.request({ method: "POST", path, headers, body: payload, signal: bounded });
    } catch (err) {
      throw asRetryable(err, timeout);
    }
    const { statusCode } = res;
    if (statusCode >= 200 && statusCode < 300) {
      try {
        return await res.body.text();
      } catch (err) {
        throw asRetryable(err, timeout);
      }
    }
    const detail = await readErrorDetail(res.body);
    if (statusCode === 429 || statusCode >= 500 || statusCode === 408) {
      throw new Retryable(`HTTP ${statusCode}${detail ? `: ${detail}` : ""}`, parseRetryAfter(res.headers["retry-after"]), statusCode >= 500);
    }
    throw new EmbeddingRejectedError(statusCode, detail);
  }
}

function asRetryable(err: unknown, timeout: AbortSignal): Retryable {
  if (timeout.aborted) return new Retryable("timed out");
  const code = (err as { code?: string }).code;
  const msg = err instanceof undiciErrors.UndiciError || err instanceof Error ? err.message : String(err);
  const r = new Retryable(code ? `${code}: ${msg}` : msg);
  r.cause = err;
  return r;
}

/** One line of the upstream's error message, whatever its shape; never the whole body. */
async function readErrorDetail(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      // Stop reading a huge error page: leaving the loop destroys the body,
      // which closes that one connection instead of buffering it.
      if (size >= ERROR_BODY_LIMIT) break;
    }
  } catch {
    return "";
  }
  const text = Buffer.concat(chunks).subarray(0, ERROR_BODY_LIMIT).toString("utf8");
  let msg = text;
  try {
    const j = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
    const e = j.error;
    if (typeof e === "string") msg = e;
    else if (e && typeof e === "object" && typeof (e as { message?: unknown }).message === "string") msg = (e as { message: string }).message;
    else if (typeof j.message === "string") msg = j.message;
    else if (typeof j.detail === "string") msg = j.detail;
  } catch {
    // not JSON: keep the text
  }
  return msg.replace(/\s+/g, " ").trim().slice(0, 300);
}

/** Retry-After as delta-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
