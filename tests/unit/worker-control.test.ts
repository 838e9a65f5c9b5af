/**
 * The embed-worker's control port (workers/embed/http.ts) over a real socket:
 * which route needs EMBED_CONTROL_TOKEN, and what /config shows. The server,
 * its bearer check and the config parser and redaction are the worker's own;
 * only the pipeline behind them (pause/resume of a Kafka consumer) is a small
 * in-memory stand-in that records the calls.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEmbedWorkerConfig, redactEmbedWorkerConfig } from "@/lib/config/embed-worker";
import { createLogger } from "@/lib/log";
import { createControlServer, type ControlApi } from "../../workers/embed/http";

const TOKEN = "control-s3cret-0123456789";
const SECRETS = { INFERMESH_API_KEY: "infermesh-key-abcdef", REDDB_TOKEN: "reddb-token-abcdef", EMBED_CONTROL_TOKEN: TOKEN };
const env = {
  ...SECRETS,
  INFERMESH_URL: "https://embed-user:embed-pass-xyz@embed.example.com:8443/v1?api_key=url-key-xyz&model=minilm",
  REDDB_URL: "http://reddb-user@reddb.internal:8080",
};

function controlApi(): ControlApi & { calls: string[] } {
  let paused = false;
  const calls: string[] = [];
  return {
    calls,
    health: () => ({ status: "ok", reasons: [], paused }),
    metrics: () => ({ records_in: 0, paused }),
    prometheus: () => "embedline_embed_worker_records_in_total 0\n",
    config: () => redactEmbedWorkerConfig(parseEmbedWorkerConfig(env)),
    pause: () => void (calls.push("pause"), (paused = true)),
    resume: () => void (calls.push("resume"), (paused = false)),
    paused: () => paused,
  };
}

const servers: Server[] = [];
const bases: Record<"open" | "token", string> = { open: "", token: "" };
const apis: Record<"open" | "token", ReturnType<typeof controlApi>> = { open: controlApi(), token: controlApi() };

beforeAll(async () => {
  for (const mode of ["open", "token"] as const) {
    const server = createControlServer(apis[mode], mode === "token" ? TOKEN : undefined, createLogger("test", "silent"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
    bases[mode] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
});
afterAll(async () => {
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
});

const ROUTES = [
  ["GET", "/health", "open"],
  ["GET", "/metrics", "open"],
  ["GET", "/metrics/prometheus", "open"],
  ["GET", "/config", "token"],
  ["HEAD", "/config", "token"],
  ["POST", "/pause", "token"],
  ["POST", "/resume", "token"],
] as const;

const HEADERS = {
  none: {},
  wrong: { authorization: "Bearer not-the-token" },
  "wrong, same length": { authorization: `Bearer ${"x".repeat(TOKEN.length)}` },
  "basic scheme": { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString("base64")}` },
  right: { authorization: `Bearer ${TOKEN}` },
} as const;

// POSTs send `{}` as JSON, as the console does; a body-less POST is served the same.
const send = (mode: "open" | "token", method: string, path: string, headers: Record<string, string>) =>
  fetch(`${bases[mode]}${path}`, { method, headers: method === "POST" ? { ...headers, "content-type": "application/json" } : headers, body: method === "POST" ? "{}" : undefined });

describe("embed-worker control port: which route needs EMBED_CONTROL_TOKEN", () => {
  const cases = ROUTES.flatMap(([method, path, guard]) =>
    (Object.keys(HEADERS) as (keyof typeof HEADERS)[]).flatMap((header) => [
      // No token configured: everything is open, whatever header comes.
      { mode: "open" as const, method, path, header, status: 200 },
      { mode: "token" as const, method, path, header, status: guard === "open" || header === "right" ? 200 : 401 },
    ]),
  );

  it.each(cases)("$mode: $method $path with $header authorization → $status", async ({ mode, method, path, header, status }) => {
    const res = await send(mode, method, path, HEADERS[header]);
    expect(res.status).toBe(status);
    if (status === 401) {
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      if (method !== "HEAD") expect(await res.json()).toEqual({ error: expect.objectContaining({ code: "unauthorized" }) });
    } else {
      await res.arrayBuffer();
    }
  });

  it("a refused pause or resume changes nothing; an accepted one does", async () => {
    const api = apis.token;
    api.calls.length = 0;
    expect((await send("token", "POST", "/pause", HEADERS.wrong)).status).toBe(401);
    expect(api.calls).toEqual([]);
    expect(await (await send("token", "POST", "/pause", HEADERS.right)).json()).toEqual({ ok: true, paused: true });
    expect(await (await send("token", "POST", "/resume", HEADERS.right)).json()).toEqual({ ok: true, paused: false });
    expect(api.calls).toEqual(["pause", "resume"]);
  });

  it("/config shows the wiring (hosts, topics) but no secret, not even inside a URL", async () => {
    const text = await (await send("token", "GET", "/config", HEADERS.right)).text();
    for (const secret of [...Object.values(SECRETS), "embed-user", "embed-pass-xyz", "url-key-xyz", "reddb-user"]) expect(text).not.toContain(secret);
    const config = JSON.parse(text) as { controlToken: unknown; reddb: { url: string; token: unknown }; embedding: { url: string; apiKey: unknown }; kafka: { inputTopic: string } };
    expect(config.controlToken).toBe("[redacted]");
    expect(config.reddb).toMatchObject({ url: "http://***@reddb.internal:8080", token: "[redacted]" });
    expect(config.embedding).toMatchObject({ urls: ["https://***:***@embed.example.com:8443/v1?api_key=[redacted]&model=minilm"], apiKey: "[redacted]" });
    expect(config.kafka.inputTopic).toBe("embedding_input");
  });
});
