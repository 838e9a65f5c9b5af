/**
 * Malformed and oversized requests to every HTTP port of a running stack
 * (`npm start --reddb`: embedding service, parse worker, embed-worker,
 * indexer, RedDB store, console): each worker answers a 4xx, and at the end
 * every process is the one that started — none exited and was restarted.
 */
import { afterAll, expect, it } from "vitest";
import { npmStart, type NpmStack } from "../harness/npm-start";
import { descendants, isAlive } from "../harness/processes";
import { rawHttp, rawRequest } from "../harness/raw-http";
import { waitFor } from "../harness/wait-for";

interface Target {
  name: string;
  port: number;
  health: string;
  /** A route that takes a JSON body. */
  jsonRoute?: string;
  /** Served by the workers' HTTP kit: every hostile request must get a 4xx. */
  kit: boolean;
}

const targets = ({ ports }: NpmStack): Target[] => [
  { name: "infermesh", port: ports.infermesh, health: "/health", jsonRoute: "POST /embed", kit: true },
  { name: "parse-worker", port: ports.parse, health: "/health", kit: true },
  { name: "embed-worker", port: ports.embedWorker, health: "/health", kit: true },
  { name: "emb-indexer", port: ports.indexer, health: "/health", jsonRoute: "POST /knn/query", kit: true },
  { name: "reddb", port: ports.reddb, health: "/health", jsonRoute: "PUT /api/kv/ns/k", kit: true },
  { name: "console", port: ports.console, health: "/api/health?degraded=200", jsonRoute: "POST /api/knn/query", kit: false },
];

// Over every JSON route's limit (RedDB's is the largest: 8 MiB), sent in full.
const OVERSIZED = `{"inputs":["${"a".repeat(9 * 1024 * 1024)}"]}`;

const hostile = (t: Target): [string, string][] => [
  ["a protocol-relative target with a bad port", rawRequest("GET //x:99999/ HTTP/1.1")],
  ["truncated percent-encoding", rawRequest("GET /%E0%A4%A HTTP/1.1")],
  ["invalid percent-encoding in a RedDB path", rawRequest("GET /api/kv/%ZZ/x HTTP/1.1")],
  ["a 64 KB header", rawRequest(`GET ${t.health} HTTP/1.1`, [`x-filler: ${"a".repeat(64 * 1024)}`])],
  ["a garbage request line", "\x00\x01\x02 GARBAGE \xff\r\n\r\n"],
  ["an asterisk target", rawRequest("OPTIONS * HTTP/1.1")],
  ["a wrong method", rawRequest(`DELETE ${t.health.split("?")[0]} HTTP/1.1`)],
  ...(t.jsonRoute
    ? ([
        ["text/plain to a JSON route", rawRequest(`${t.jsonRoute} HTTP/1.1`, ["content-type: text/plain", "content-length: 5"], "hello")],
        ["malformed JSON", rawRequest(`${t.jsonRoute} HTTP/1.1`, ["content-type: application/json", "content-length: 7"], '{"a":1,')],
        ["a 9 MiB body", rawRequest(`${t.jsonRoute} HTTP/1.1`, ["content-type: application/json", `content-length: ${OVERSIZED.length}`], OVERSIZED)],
      ] as [string, string][])
    : []),
];

let stack: NpmStack | undefined;
afterAll(async () => {
  await stack?.destroy();
});

it("no malformed or oversized request takes down a process of the stack", { timeout: 900_000 }, async () => {
  stack = await npmStart({ LOG_LEVEL: "warn" }, "hostile", ["--reddb"]);
  const { run } = stack;
  await waitFor(
    "the stack to start",
    () => run.output().includes("Embedline is running") || (run.child.exitCode !== null && Promise.reject(new Error(`npm start exited ${run.child.exitCode}: ${run.output().slice(-3000)}`))),
    600_000,
    500,
  );
  const pidsBefore = descendants(run.child.pid!).sort((a, b) => a - b);

  const seen: string[] = [];
  for (const t of targets(stack)) {
    for (const [what, bytes] of hostile(t)) {
      const answer = await rawHttp(t.port, bytes).catch((err: Error) => err);
      seen.push(`${t.name}: ${what} → ${answer instanceof Error ? `closed (${answer.message.slice(0, 80)})` : answer.status}`);
      if (t.kit) {
        expect(answer, `${t.name}: ${what}`).not.toBeInstanceOf(Error);
        const { status } = answer as { status: number };
        expect(status >= 400 && status < 500, `${t.name}: ${what} answered ${status}`).toBe(true);
      }
      const health = await fetch(`http://127.0.0.1:${t.port}${t.health}`, { signal: AbortSignal.timeout(10_000) });
      expect(health.status, `${t.name} /health after ${what}`).toBe(200);
    }
  }
  console.log(seen.join("\n"));

  // Every process is still the one that started: none exited (the launcher would have restarted it).
  const pidsAfter = descendants(run.child.pid!).sort((a, b) => a - b);
  expect(pidsAfter).toEqual(pidsBefore);
  expect(pidsAfter.every(isAlive)).toBe(true);
  expect(stack.state().processes.map((p) => [p.name, p.restarts])).toEqual(stack.state().processes.map((p) => [p.name, 0]));

  process.kill(-run.child.pid!, "SIGINT");
  expect(await run.exited).toBe(0);
});
