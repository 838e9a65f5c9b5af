/**
 * The workers' HTTP kit over a real socket: hostile requests written byte for
 * byte with node:net (no client library would send most of them), each
 * answered with its 4xx — and the server still answers /health afterwards.
 */
import type { Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { bearerCheck } from "@/lib/http/bearer";
import { createWorkerServer, json, route, type RequestOutcome } from "@/lib/http/worker-server";
import { rawHttp, rawRequest, type RawAnswer } from "../harness/raw-http";
import { waitFor } from "../harness/wait-for";

const TOKEN = "s3cret-token";
const BODY_LIMIT = 1024;

const logLines: { level: number; msg: string }[] = [];
const log = pino({ level: "debug" }, { write: (line: string) => void logLines.push(JSON.parse(line) as { level: number; msg: string }) });
const outcomes: RequestOutcome[] = [];

let server: Server;
let port = 0;

beforeAll(async () => {
  server = createWorkerServer({
    log,
    bearer: bearerCheck(TOKEN, "test"),
    maxBodyBytes: BODY_LIMIT,
    onResponse: (o) => void outcomes.push(o),
    routes: {
      "GET /health": route({ handle: () => json({ status: "ok" }) }),
      "PUT /api/kv/:ns/:key": route({ auth: true, body: z.unknown(), handle: ({ params, body }) => json({ ...params, body }) }),
      "GET /api/kv/:ns/:key": route({ auth: true, handle: ({ params }) => json(params) }),
      "POST /sum": route({ body: z.object({ a: z.number(), b: z.number() }), handle: ({ body }) => json({ sum: body.a + body.b }) }),
      "GET /page": route({ query: z.object({ n: z.coerce.number().int().min(1).default(1) }), handle: ({ query }) => json({ n: query.n }) }),
      "POST /pause": route({ auth: true, handle: () => json({ ok: true }) }),
      "GET /boom": route({
        handle: () => {
          throw new Error("handler bug");
        },
      }),
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const raw = (bytes: string | Buffer, head = false) => rawHttp(port, bytes, { head });
const req = rawRequest;
const withBody = (line: string, contentType: string, body: string, extra: string[] = []) => req(line, [`content-type: ${contentType}`, `content-length: ${Buffer.byteLength(body)}`, ...extra], body);
const auth = `authorization: Bearer ${TOKEN}`;

const errorCode = (a: RawAnswer) => (JSON.parse(a.body) as { error: { code: string; message: string; type: string } }).error;

describe("worker HTTP kit", () => {
  it.each<[string, number, string | Buffer, string | undefined]>([
    ["a protocol-relative target with a bad port", 404, req("GET //x:99999/ HTTP/1.1"), "not_found"],
    ["truncated percent-encoding", 400, req("GET /%E0%A4%A HTTP/1.1"), "invalid_path"],
    ["invalid percent-encoding in a path parameter", 400, req("GET /api/kv/%ZZ/x HTTP/1.1", [auth]), "invalid_path"],
    ["an asterisk target", 400, req("OPTIONS * HTTP/1.1"), "invalid_target"],
    ["an absolute target that is not a URL", 400, req("GET http://[zz/health HTTP/1.1"), undefined],
    ["a 64 KB header", 431, req("GET /health HTTP/1.1", [`x-filler: ${"a".repeat(64 * 1024)}`]), "headers_too_large"],
    ["a garbage request line", 400, "\x00\x01\x02 GARBAGE \xff\r\n\r\n", "bad_request"],
    ["a header line without a colon", 400, "GET /health HTTP/1.1\r\nhost: x\r\nno colon here\r\n\r\n", "bad_request"],
    ["a wrong method", 405, req("DELETE /health HTTP/1.1"), "method_not_allowed"],
    ["text/plain to a JSON route", 415, withBody("POST /sum HTTP/1.1", "text/plain", '{"a":1,"b":2}'), "unsupported_media_type"],
    ["a form post to a JSON route", 415, withBody("POST /sum HTTP/1.1", "application/x-www-form-urlencoded", "a=1&b=2"), "unsupported_media_type"],
    ["a declared 1 GiB body (refused before it is sent)", 413, req("POST /sum HTTP/1.1", ["content-type: application/json", `content-length: ${2 ** 30}`]), "body_too_large"],
    ["a 4 MiB body over the limit, sent in full", 413, withBody("POST /sum HTTP/1.1", "application/json", `"${"x".repeat(4 * 1024 * 1024)}"`), "body_too_large"],
    ["a chunked body over the limit", 413, req("POST /sum HTTP/1.1", ["content-type: application/json", "transfer-encoding: chunked"], `${(BODY_LIMIT * 2).toString(16)}\r\n${"x".repeat(BODY_LIMIT * 2)}\r\n0\r\n\r\n`), "body_too_large"],
    ["malformed JSON", 400, withBody("POST /sum HTTP/1.1", "application/json", '{"a":1,'), "invalid_json"],
    ["a body failing the schema", 422, withBody("POST /sum HTTP/1.1", "application/json", '{"a":1,"b":"2"}'), "invalid_request"],
    ["a query failing the schema", 422, req("GET /page?n=-3 HTTP/1.1"), "invalid_request"],
    ["bad percent-encoding in the query (read as sent, then validated)", 422, req("GET /page?n=%ZZ HTTP/1.1"), "invalid_request"],
    ["no bearer token", 401, withBody("PUT /api/kv/ns/k HTTP/1.1", "application/json", "1"), "unauthorized"],
    ["a wrong bearer token of another length", 401, withBody("PUT /api/kv/ns/k HTTP/1.1", "application/json", "1", ["authorization: Bearer x"]), "unauthorized"],
    ["a cross-site POST", 403, req("POST /pause HTTP/1.1", [auth, "origin: http://evil.example", "content-length: 0"]), "cross_site"],
    ["both content-length and transfer-encoding (request smuggling)", 400, req("POST /sum HTTP/1.1", ["content-type: application/json", "content-length: 3", "transfer-encoding: chunked"], "0\r\n\r\n"), "bad_request"],
    ["a handler that throws", 500, req("GET /boom HTTP/1.1"), "internal"],
  ])("answers %s with %i and keeps serving", async (_name, status, bytes, code) => {
    const answer = await raw(bytes);
    expect(answer.status).toBe(status);
    if (code) {
      const error = errorCode(answer);
      expect(error.code).toBe(code);
      expect(error.type).toBe(status >= 500 ? "server_error" : "invalid_request_error");
    }
    if (status === 405) expect(answer.headers.allow).toBe("GET, HEAD");
    if (status === 401) expect(answer.headers["www-authenticate"]).toBe('Bearer realm="test"');
    const health = await raw(req("GET /health HTTP/1.1"));
    expect([health.status, health.body]).toEqual([200, '{"status":"ok"}']);
  });

  it("answers a client that never finishes its headers with 408 once headersTimeout passes", async () => {
    const slow = createWorkerServer({ log, routes: { "GET /health": route({ handle: () => json({ status: "ok" }) }) }, limits: { headersTimeoutMs: 300, requestTimeoutMs: 300, timeoutCheckMs: 100 } });
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    try {
      const answer = await rawHttp((slow.address() as AddressInfo).port, "GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n", { timeoutMs: 5_000 });
      expect(answer.status).toBe(408);
      expect(errorCode(answer).code).toBe("request_timeout");
    } finally {
      slow.closeAllConnections();
      await new Promise((r) => slow.close(r));
    }
  });

  it("keeps serving when a client hangs up halfway through a body", async () => {
    const socket = net.connect(port, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    // Headers and the first bytes of a 100-byte body are on the wire; then the connection is reset.
    await new Promise((r) => socket.write(req("POST /sum HTTP/1.1", ["content-type: application/json", "content-length: 100"], '{"a":1,'), r));
    socket.resetAndDestroy();
    await waitFor("/health after the hang-up", async () => (await raw(req("GET /health HTTP/1.1"))).status === 200, 5_000);
  });

  it("logs a handler that throws once, without internals in the answer", async () => {
    const before = logLines.filter((l) => l.msg === "request failed").length;
    const answer = await raw(req("GET /boom HTTP/1.1"));
    expect(answer.body).not.toContain("handler bug");
    const failed = logLines.filter((l) => l.msg === "request failed");
    expect(failed.length - before).toBe(1);
    expect(JSON.stringify(failed.at(-1))).toContain("handler bug");
  });

  it("serves path parameters percent-decoded, JSON bodies, queries and HEAD", async () => {
    const put = await raw(withBody("PUT /api/kv/my%20ns/embedding%3Aa%2Fb HTTP/1.1", "application/json; charset=utf-8", '{"v":[1,2]}', [auth]));
    expect(put.status).toBe(200);
    expect(JSON.parse(put.body)).toEqual({ ns: "my ns", key: "embedding:a/b", body: { v: [1, 2] } });
    expect(JSON.parse((await raw(withBody("POST /sum HTTP/1.1", "application/json", '{"a":2,"b":3}'))).body)).toEqual({ sum: 5 });
    expect(JSON.parse((await raw(req("GET /page?n=4 HTTP/1.1"))).body)).toEqual({ n: 4 });
    const head = await raw(req("HEAD /health HTTP/1.1"), true);
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
    const paused = await raw(req("POST /pause HTTP/1.1", [auth, "content-length: 0"]));
    expect(paused.status).toBe(200);
  });

  it("reports every answer to onResponse with the matched route", async () => {
    outcomes.length = 0;
    await raw(req("GET /api/kv/a/b HTTP/1.1"));
    await raw(req("GET /nope HTTP/1.1"));
    expect(outcomes.map((o) => [o.route, o.status, o.code])).toEqual([
      ["/api/kv/:ns/:key", 401, "unauthorized"],
      [undefined, 404, "not_found"],
    ]);
  });

  it("answers many hostile requests in a row on one keep-alive connection and after", async () => {
    const first = await fetch(`http://127.0.0.1:${port}/%E0%A4%A`);
    expect(first.status).toBe(400);
    const again = await fetch(`http://127.0.0.1:${port}/health`);
    expect(again.status).toBe(200);
  });
});
