import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { healthResponseSchema } from "@/lib/health/schema";

let GET: (request: Request, context: unknown) => Promise<Response>;
let broker: string;
const stateFile = path.join(mkdtempSync(path.join(tmpdir(), "health-route-")), "state.json");

beforeAll(async () => {
  // No broker listens here: Kafka is down, the console itself is up.
  const s = createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  broker = `127.0.0.1:${(s.address() as AddressInfo).port}`;
  s.close();
  await once(s, "close");
  process.env.KAFKA_BOOTSTRAP_SERVERS = broker;
  // Nothing listens here either: the embedding service is down too.
  process.env.INFERMESH_URL = `http://${broker}`;
  process.env.INDEXER_URL = `http://${broker}`;
  process.env.EMBED_WORKER_METRICS_URL = `http://${broker}`;
  process.env.PARSE_METRICS_URL = `http://${broker}`;
  process.env.SPARK_VECTOR_UI_URL = `http://${broker}/api/v1`;
  delete process.env.REDDB_URL;
  // Not written yet: the console runs unsupervised until a test writes it.
  process.env.LAUNCHER_STATE_FILE = stateFile;
  process.env.HEALTH_TIMEOUT_MS = "3000";
  process.env.LOG_LEVEL = "silent";
  ({ GET } = await import("@/app/api/health/route"));
});

const get = (query = "") => GET(new Request(`http://console.test/api/health${query}`), undefined);

describe("GET /api/health with Kafka and the embedding service down", () => {
  it.each([
    { query: "", status: 503 },
    { query: "?degraded=503", status: 503 },
    { query: "?degraded=200", status: 200 },
  ])("$query → $status with a degraded report, Kafka first", async ({ query, status }) => {
    const res = await get(query);
    expect(res.status).toBe(status);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = healthResponseSchema.parse(await res.json());
    expect(body.status).toBe("degraded");
    // Without the launcher and with neither parse stage answering, both are down; RedDB is not configured.
    expect(body.components.map((c) => [c.name, c.state, c.ok])).toEqual([
      ["kafka", "down", false],
      ["embedding-service", "down", false],
      ["reddb", "not_in_use", true],
      ["parse-worker", "down", false],
      ["spark", "down", false],
      ["embed-worker", "down", false],
      ["indexer", "down", false],
      ["console", "ok", true],
    ]);
    expect(body.components.find((c) => c.name === "reddb")).toMatchObject({ latencyMs: null, error: null, detail: expect.stringMatching(/^no REDDB_URL configured/) });
    expect(body.components[0]).toMatchObject({ kind: "kafka", target: broker, error: `connection refused (${broker})` });
  });

  it("rejects a bad query with a 422 and one readable line", async () => {
    const res = await get("?degraded=maybe");
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ error: { code: "invalid_request", message: 'degraded: expected "503" or "200"', type: "invalid_request_error" } });
  });

  it("shares one in-flight check between concurrent requests", async () => {
    const [a, b] = await Promise.all([get(), get()]);
    const [ja, jb] = [await a.json(), await b.json()];
    expect(ja.timestamp).toBe(jb.timestamp);
  });

  it.each([
    { runs: "spark", notInUse: "parse-worker", probed: "spark", why: /Spark parse job instead \(npm start -- --spark\)/ },
    { runs: "parse-worker", notInUse: "spark", probed: "parse-worker", why: /TypeScript parse worker \(npm start without --spark\)/ },
  ])("under npm start running $runs, $notInUse is not in use (not probed, grey, with why) and $probed is probed", async ({ runs, notInUse, probed, why }) => {
    const running = (name: string) => ({ name, state: "running", pid: process.pid, restarts: 0, started_ts: Date.now(), last_exit: null, next_restart_ts: null });
    const state = (names: string[]) => ({ launcher_pid: process.pid, started_ts: Date.now(), updated_ts: Date.now(), crash_loop: { restarts: 5, window_sec: 300 }, processes: names.map(running) });
    writeFileSync(stateFile, JSON.stringify(state(["kafka", "infermesh", runs, "embed-worker", "emb-indexer", "console"])));
    const body = healthResponseSchema.parse(await (await get("?degraded=200")).json());
    expect(body.components.find((c) => c.name === notInUse)).toMatchObject({ state: "not_in_use", ok: true, latencyMs: null, error: null, detail: expect.stringMatching(why) });
    expect(body.components.find((c) => c.name === probed)).toMatchObject({ state: "down", ok: false });
    expect(body.components.map((c) => c.name)).toEqual(["kafka", "embedding-service", "reddb", "parse-worker", "spark", "embed-worker", "indexer", "console"]);
  });
});
