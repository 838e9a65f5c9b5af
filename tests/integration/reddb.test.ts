/**
 * The RedDB-compatible server as a real process: the ARCHITECTURE.md API,
 * bearer auth, and data that survives a restart.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { ReddbClient, ReddbError } from "../../lib/reddb/client";
import { freePort } from "../harness/free-port";
import { waitFor } from "../harness/wait-for";
import { launchWorker } from "../harness/workers";
import type { RunningCommand } from "../harness/processes";

const dataDir = mkdtempSync(path.join(os.tmpdir(), "reddb-"));
const token = `reddb-token-${process.pid}`;
let server: RunningCommand | undefined;
afterAll(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill("SIGTERM");
    await server.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

async function startServer(port: number): Promise<RunningCommand> {
  const cmd = launchWorker("reddb", {
    env: { ...process.env, REDDB_PORT: String(port), REDDB_DATA_DIR: dataDir, REDDB_TOKEN: token, LOG_LEVEL: "warn" },
  });
  await waitFor(`reddb on ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, 30_000);
  return cmd;
}

it("serves KV and streams with bearer auth, clamps reads, tails, and keeps everything across a restart", async () => {
  const port = await freePort();
  server = await startServer(port);
  const url = `http://127.0.0.1:${port}`;
  const db = new ReddbClient({ url, token });

  expect((await fetch(`${url}/api/kv/ns/k`)).status).toBe(401);
  await expect(new ReddbClient({ url, token: "wrong" }).getKv("ns", "k")).rejects.toBeInstanceOf(ReddbError);

  await db.putKv("ns", "embedding:a/b", { v: [1, 2] });
  expect(await db.getKv("ns", "embedding:a/b")).toEqual({ v: [1, 2] });
  expect(await db.getKv("ns", "missing")).toBeUndefined();
  await db.putKv("ns", "gone", 1);
  await db.deleteKv("ns", "gone");
  expect(await db.getKv("ns", "gone")).toBeUndefined();

  const offsets = await Promise.all(Array.from({ length: 1200 }, (_, i) => db.append("ns", "s", { i })));
  expect([...offsets].sort((a, b) => a - b)).toEqual(Array.from({ length: 1200 }, (_, i) => i));
  const res = await fetch(`${url}/api/streams/ns/s/append`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: '{"x":1}' });
  expect(await res.json()).toEqual({ ok: true, namespace: "ns", stream: "s", offset: 1200 });

  expect((await db.read("ns", "s", 5, 3)).map((e) => e.offset)).toEqual([5, 6, 7]);
  expect(await db.read("ns", "s", 0, 5000)).toHaveLength(1000);
  expect((await db.read("ns", "s", 0, 0)).map((e) => e.offset)).toEqual([0]);
  const tail = await db.tail("ns", "s", 2);
  expect(tail.map((e) => e.offset)).toEqual([1199, 1200]);
  expect(tail[1]?.value).toEqual({ x: 1 });
  expect(await db.read("ns", "other", 0, 10)).toEqual([]);

  // A key LMDB cannot hold is the request's fault (a 4xx about the key), not a 500 a sink would retry forever.
  const long = await fetch(`${url}/api/kv/ns/${"k".repeat(3000)}`, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "1" });
  expect(long.status).toBe(414);
  expect(((await long.json()) as { error: { code: string } }).error.code).toBe("key_too_long");
  const badPath = await fetch(`${url}/api/kv/%ZZ/x`, { headers: { authorization: `Bearer ${token}` } });
  expect(badPath.status).toBe(400);

  await db.close();
  server.child.kill("SIGTERM");
  expect(await server.exited).toBe(0);
  server = await startServer(port);
  const again = new ReddbClient({ url, token });
  expect(await again.getKv("ns", "embedding:a/b")).toEqual({ v: [1, 2] });
  expect(await again.append("ns", "s", { after: "restart" })).toBe(1201);
  await again.close();
});
