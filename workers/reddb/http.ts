import type { Server } from "node:http";
import { z } from "zod";
import { ApiError } from "../../lib/http/api-error";
import { bearerCheck } from "../../lib/http/bearer";
import { createWorkerServer, json, route } from "../../lib/http/worker-server";
import type { Logger } from "../../lib/log";
import { KeyTooLongError, type ReddbStore } from "./store";

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
/** Any JSON value is stored as sent. */
const anyJson = z.unknown();

/** A write refused for its key's size is the request's fault (414, code key_too_long), never a 500 a client would retry. */
async function keyed<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (err instanceof KeyTooLongError) throw new ApiError("key_too_long", "key too long: namespace and key (or stream name) must fit LMDB's 1,978-byte key limit");
    throw err;
  }
}

/**
 * The RedDB HTTP API (ARCHITECTURE.md): KV `PUT|GET|DELETE /api/kv/{ns}/{key}`,
 * streams `POST …/append`, `GET …/read?start&count`, and our `GET …/tail?limit`;
 * `GET /health` is open, everything under /api needs the bearer token when one
 * is configured. Namespaces, keys and stream names are percent-decoded path segments.
 */
export function createReddbServer(store: ReddbStore, token: string | undefined, log: Logger): Server {
  const kv = "/api/kv/:ns/:key";
  const stream = "/api/streams/:ns/:stream";
  return createWorkerServer({
    log,
    bearer: bearerCheck(token, "reddb"),
    maxBodyBytes: MAX_BODY_BYTES,
    routes: {
      "GET /health": route({ handle: () => json({ status: "ok" }) }),
      [`PUT ${kv}`]: route({
        auth: true,
        body: anyJson,
        handle: async ({ params: { ns, key }, body }) => {
          await keyed(store.putKv(ns!, key!, body));
          return json({ ok: true, namespace: ns, key });
        },
      }),
      [`GET ${kv}`]: route({
        auth: true,
        handle: ({ params: { ns, key } }) => {
          const value = store.getKv(ns!, key!);
          if (value === undefined) throw new ApiError("not_found", "no such key");
          return json(value);
        },
      }),
      [`DELETE ${kv}`]: route({ auth: true, handle: async ({ params: { ns, key } }) => json({ ok: true, deleted: await keyed(store.deleteKv(ns!, key!)) }) }),
      [`POST ${stream}/append`]: route({
        auth: true,
        body: anyJson,
        handle: async ({ params: { ns, stream: name }, body }) => json({ ok: true, namespace: ns, stream: name, offset: await keyed(store.append(ns!, name!, body)) }),
      }),
      [`GET ${stream}/read`]: route({ auth: true, query: readQuery, handle: ({ params: { ns, stream: name }, query }) => json(store.read(ns!, name!, query.start, query.count)) }),
      [`GET ${stream}/tail`]: route({ auth: true, query: tailQuery, handle: ({ params: { ns, stream: name }, query }) => json(store.tail(ns!, name!, query.limit)) }),
    },
  });
}
