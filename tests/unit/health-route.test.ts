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
    expect(body.components.map((c) => [c.name, c.ok])).toEqual([
      ["kafka", false],
      ["embedding-service", false],
      ["parse-worker", false],
      ["embed-worker", false],
      ["indexer", false],
      ["console", true],
    ]);
    expect(body.components[0]).toMatchObject({ kind: "kafka", target: broker, error: `connection refused (${broker})` });
  });

  it("rejects a bad query with a 422 and one readable line", async () => {
    const res = await get("?degraded=maybe");
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ error: { code: "invalid_request", message: 'degraded: expected "503" or "200"' } });
  });

  it("shares one in-flight check between concurrent requests", async () => {
    const [a, b] = await Promise.all([get(), get()]);
    const [ja, jb] = [await a.json(), await b.json()];
    expect(ja.timestamp).toBe(jb.timestamp);
  });

  it("does not probe the parse worker when npm start runs the Spark job instead", async () => {
    const running = (name: string) => ({ name, state: "running", pid: process.pid, restarts: 0, started_ts: Date.now(), last_exit: null, next_restart_ts: null });
    const state = (names: string[]) => ({ launcher_pid: process.pid, started_ts: Date.now(), updated_ts: Date.now(), crash_loop: { restarts: 5, window_sec: 300 }, processes: names.map(running) });
    writeFileSync(stateFile, JSON.stringify(state(["kafka", "infermesh", "spark", "embed-worker", "emb-indexer", "console"])));
    const withSpark = healthResponseSchema.parse(await (await get("?degraded=200")).json());
    expect(withSpark.components.map((c) => c.name)).not.toContain("parse-worker");
    writeFileSync(stateFile, JSON.stringify(state(["kafka", "infermesh", "parse-worker", "embed-worker", "emb-indexer", "console"])));
    const withWorker = healthResponseSchema.parse(await (await get("?degraded=200")).json());
    expect(withWorker.components.map((c) => c.name)).toContain("parse-worker");
  });
});
