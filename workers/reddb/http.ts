import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { z } from "zod";
import { ApiError, describeZodError } from "../../lib/http/api-error";
import { readJson, sendApiError, sendJson } from "../../lib/http/node-server";
import type { Logger } from "../../lib/log";
import type { ReddbStore } from "./store";

/** Largest value one request may carry: an embedding record with a long text fits many times over. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

const clampedInt = (min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return fallback;
      if (!/^\d+$/.test(v)) {
        ctx.addIssue({ code: "custom", message: "expected a non-negative integer" });
        return z.NEVER;
      }
      return Math.min(max, Math.max(min, Number(v)));
    });

const readQuery = z.object({ start: clampedInt(0, Number.MAX_SAFE_INTEGER, 0), count: clampedInt(1, 1000, 100) });
const tailQuery = z.object({ limit: clampedInt(1, 1000, 100) });

/**
 * The RedDB HTTP API (ARCHITECTURE.md): KV `PUT|GET|DELETE /api/kv/{ns}/{key}`,
 * streams `POST …/append`, `GET …/read?start&count`, and our `GET …/tail?limit`;
 * `GET /health` is open, everything under /api needs the bearer token when one
 * is configured.
 */
export function createReddbServer(store: ReddbStore, token: string | undefined, log: Logger): Server {
  return createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const parts = url.pathname.split("/").slice(1).map(decodeURIComponent);
    try {
      if (req.method === "GET" && url.pathname === "/health") return sendJson(res, 200, { status: "ok" });
      if (parts[0] !== "api") throw new ApiError(404, "not_found", "no such route");
      authorize(req, token);
      const [, kind, ns, name, action] = parts;
      if (kind === "kv" && ns && name !== undefined && parts.length === 4) {
        if (req.method === "PUT") {
          await store.putKv(ns, name, await readJson(req, MAX_BODY_BYTES));
          return sendJson(res, 200, { ok: true, namespace: ns, key: name });
        }
        if (req.method === "GET") {
          const value = store.getKv(ns, name);
          if (value === undefined) throw new ApiError(404, "not_found", "no such key");
          return sendJson(res, 200, value);
        }
        if (req.method === "DELETE") return sendJson(res, 200, { ok: true, deleted: await store.deleteKv(ns, name) });
      }
      if (kind === "streams" && ns && name && parts.length === 5) {
        if (req.method === "POST" && action === "append") {
          const offset = await store.append(ns, name, await readJson(req, MAX_BODY_BYTES));
          return sendJson(res, 200, { ok: true, namespace: ns, stream: name, offset });
        }
        if (req.method === "GET" && action === "read") {
          const q = parse(readQuery, url);
          return sendJson(res, 200, store.read(ns, name, q.start, q.count));
        }
        if (req.method === "GET" && action === "tail") {
          return sendJson(res, 200, store.tail(ns, name, parse(tailQuery, url).limit));
        }
      }
      throw new ApiError(404, "not_found", `no route ${req.method} ${url.pathname}`);
    } catch (err) {
      if (err instanceof ApiError) return sendApiError(res, err);
      log.error({ err: { message: (err as Error).message }, path: url.pathname }, "request failed");
      return sendApiError(res, new ApiError(500, "internal", "internal error"));
    }
  });
}

function parse<S extends z.ZodType>(schema: S, url: URL): z.output<S> {
  const r = schema.safeParse(Object.fromEntries(url.searchParams));
  if (!r.success) throw new ApiError(422, "invalid_request", describeZodError(r.error));
  return r.data;
}

function authorize(req: IncomingMessage, token: string | undefined): void {
  if (token === undefined) return;
  const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "");
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ApiError(401, "unauthorized", "a valid bearer token is required", { "www-authenticate": "Bearer" });
  }
}
