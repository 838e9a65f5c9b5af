import "server-only";
import { Pool } from "undici";

export interface ReddbClientOptions {
  url: string;
  /** Secret: sent as a bearer token, never logged. */
  token?: string;
  timeoutMs?: number;
  connections?: number;
}

export class ReddbError extends Error {
  override name = "ReddbError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface StreamEntry<T = unknown> {
  offset: number;
  value: T;
}

/**
 * A client of the RedDB HTTP API (ARCHITECTURE.md), as the seed's store and
 * our workers/reddb serve it: KV under a namespace, append-only streams.
 * One keep-alive pool; every call bounded by its timeout and the caller's signal.
 */
export class ReddbClient {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(private readonly opts: ReddbClientOptions) {
    const u = new URL(opts.url);
    this.basePath = u.pathname.replace(/\/+$/, "");
    // Stream appends are one record per request; a few connections keep them flowing.
    this.pool = new Pool(u.origin, { connections: opts.connections ?? 8, keepAliveTimeout: 30_000 });
  }

  async putKv(ns: string, key: string, value: unknown, signal?: AbortSignal): Promise<void> {
    await this.request("PUT", `/api/kv/${enc(ns)}/${enc(key)}`, value, signal);
  }

  /** The value, or undefined when the key does not exist. */
  async getKv<T = unknown>(ns: string, key: string, signal?: AbortSignal): Promise<T | undefined> {
    try {
      return (await this.request("GET", `/api/kv/${enc(ns)}/${enc(key)}`, undefined, signal)) as T;
    } catch (err) {
      if (err instanceof ReddbError && err.status === 404) return undefined;
      throw err;
    }
  }

  async deleteKv(ns: string, key: string, signal?: AbortSignal): Promise<void> {
    await this.request("DELETE", `/api/kv/${enc(ns)}/${enc(key)}`, undefined, signal);
  }

  /** Append one record; resolves to its offset in the stream. */
  async append(ns: string, stream: string, value: unknown, signal?: AbortSignal): Promise<number> {
    const res = (await this.request("POST", `/api/streams/${enc(ns)}/${enc(stream)}/append`, value, signal)) as { offset: number };
    return res.offset;
  }

  async read<T = unknown>(ns: string, stream: string, start = 0, count = 100, signal?: AbortSignal): Promise<StreamEntry<T>[]> {
    return (await this.request("GET", `/api/streams/${enc(ns)}/${enc(stream)}/read?start=${start}&count=${count}`, undefined, signal)) as StreamEntry<T>[];
  }

  /** The newest `limit` records, oldest first. */
  async tail<T = unknown>(ns: string, stream: string, limit = 100, signal?: AbortSignal): Promise<StreamEntry<T>[]> {
    return (await this.request("GET", `/api/streams/${enc(ns)}/${enc(stream)}/tail?limit=${limit}`, undefined, signal)) as StreamEntry<T>[];
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private async request(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs ?? 10_000);
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    const res = await this.pool.request({
      method: method as "GET",
      path: this.basePath + path,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await res.body.text();
    if (res.statusCode >= 400) {
      throw new ReddbError(res.statusCode, `RedDB ${method} answered HTTP ${res.statusCode}: ${text.replace(/\s+/g, " ").slice(0, 200)}`);
    }
    return text === "" ? undefined : (JSON.parse(text) as unknown);
  }
}

const enc = encodeURIComponent;
