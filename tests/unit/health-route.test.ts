import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { healthResponseSchema } from "@/lib/health/schema";

let GET: (request: Request, context: unknown) => Promise<Response>;
let broker: string;

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
});
