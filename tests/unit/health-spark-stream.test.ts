import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sparkPoll } from "@/lib/upstreams/spark";

// The Spark panel's stream says "not in use" (grey) rather than "unreachable"
// (red) when the stack parses with the TypeScript worker. A local server
// stands in for the parse worker's /metrics; nothing answers for Spark.

let server: Server;
let parseUp = true;
const dir = mkdtempSync(path.join(tmpdir(), "spark-stream-"));
const stateFile = path.join(dir, "state.json");

const running = (name: string) => ({ name, state: "running", pid: process.pid, restarts: 0, started_ts: Date.now(), last_exit: null, next_restart_ts: null });
const writeState = (names: string[]) =>
  writeFileSync(stateFile, JSON.stringify({ launcher_pid: process.pid, started_ts: Date.now(), updated_ts: Date.now(), crash_loop: { restarts: 5, window_sec: 300 }, processes: names.map(running) }));

beforeAll(async () => {
  server = createServer((req, res) => {
    if (parseUp && req.url === "/parse/metrics") res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ records_in: 3 }));
    else res.writeHead(404, { "content-type": "application/json" }).end("{}");
  }).listen(0, "127.0.0.1");
  await once(server, "listening");
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  Object.assign(process.env, { PARSE_METRICS_URL: `${base}/parse`, SPARK_VECTOR_UI_URL: `${base}/spark`, LAUNCHER_STATE_FILE: stateFile, LOG_LEVEL: "silent" });
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const poll = () => sparkPoll()(new AbortController().signal);

describe("the Spark stream when Spark is not part of the stack", () => {
  it.each([
    { name: "npm start without --spark: not in use, Spark not asked", processes: ["kafka", "parse-worker", "console"], parse: true, status: "not_in_use", message: /TypeScript parse worker \(npm start without --spark\)/ },
    { name: "npm start without --spark and the parse worker down: still not in use (the parse worker is what is down)", processes: ["kafka", "parse-worker", "console"], parse: false, status: "not_in_use", message: /npm start without --spark/ },
    { name: "npm start --spark and Spark silent: unreachable, red", processes: ["kafka", "spark", "console"], parse: false, status: "unreachable", message: /Spark REST API unreachable/ },
    { name: "no launcher, the parse worker answers: not in use", processes: null, parse: true, status: "not_in_use", message: /docker-compose --profile parse-worker/ },
    { name: "no launcher and no parse stage answers: unreachable, red", processes: null, parse: false, status: "unreachable", message: /Spark REST API unreachable/ },
  ])("$name", async ({ processes, parse, status, message }) => {
    rmSync(stateFile, { force: true });
    if (processes) writeState(processes);
    parseUp = parse;
    const e = await poll();
    expect(e.status).toBe(status);
    expect(e.message).toMatch(message);
  });
});
