import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EfTuner } from "@/lib/index/ef-tuner";
import { RecallMonitor } from "@/lib/index/recall-monitor";
import { VectorIndex } from "@/lib/index/vector-index";
import { createLogger } from "@/lib/log";
import { describeZodError } from "@/lib/http/api-error";
import { knnQuerySchema } from "@/lib/knn/query";
import { createIndexerServer } from "../../workers/indexer/http";
import { IndexerMetrics } from "../../workers/indexer/metrics";

// The console parses its environment once, on first use: set it before importing its route.
Object.assign(process.env, { LOG_LEVEL: "silent", INDEXER_URL: "http://127.0.0.1:1", KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:1", DATA_DIR: mkdtempSync(path.join(tmpdir(), "knn-schema-console-")) });
delete process.env.CONSOLE_TOKEN;

const ROOT = path.resolve(__dirname, "../..");
let dir: string;
let index: VectorIndex;
let indexer: Server;
let indexerBase: string;
let consolePost: (request: Request, context: unknown) => Promise<Response>;

beforeAll(async () => {
  consolePost = (await import("@/app/api/knn/query/route")).POST as typeof consolePost;
  dir = mkdtempSync(path.join(tmpdir(), "knn-schema-indexer-"));
  index = VectorIndex.open({ dir, shards: 4, maxIdsPerShard: 0, hnsw: { connectivity: 16, efAdd: 64, efSearch: 32 } }).index;
  indexer = createIndexerServer({
    index,
    metrics: new IndexerMetrics(),
    recall: new RecallMonitor(index, 10, new EfTuner(32, 256, 0.95)),
    embedText: () => Promise.reject(new Error("no text is embedded here")),
    log: createLogger("test", "silent"),
    health: () => ({ httpStatus: 200, body: { status: "ok" } }),
  });
  await new Promise<void>((resolve) => indexer.listen(0, "127.0.0.1", resolve));
  indexerBase = `http://127.0.0.1:${(indexer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => indexer.close(resolve));
  await index.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The first readable line of a refusal, as both the console and the indexer answer it (422 invalid_request). */
function refusal(body: unknown): string | null {
  const r = knnQuerySchema.safeParse(body);
  return r.success ? null : describeZodError(r.error);
}

describe("one kNN query schema", () => {
  // Both sides answer what the schema says, over their real HTTP paths: the console's route and an indexer's socket.
  it.each([
    { name: "an empty shards list (console and indexer once disagreed)", body: { text: "a", shards: [] } },
    { name: "no query", body: { k: 3 } },
    { name: "an unknown field", body: { text: "a", shard: [1] } },
  ])("the console route and an indexer refuse $name alike", async ({ body }) => {
    const init = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
    const fromConsole = await consolePost(new Request("http://127.0.0.1:3000/api/knn/query", init), {});
    const fromIndexer = await fetch(`${indexerBase}/knn/query`, init);
    const expected = { status: 422, body: { error: { code: "invalid_request", message: refusal(body), type: "invalid_request_error" } } };
    expect({ status: fromConsole.status, body: await fromConsole.json() }).toEqual(expected);
    expect({ status: fromIndexer.status, body: await fromIndexer.json() }).toEqual(expected);
  });

  // One schema, in lib/knn only: the console route and the indexer import it; nobody else writes a kNN query's fields.
  it("is defined in lib/knn alone, and the route and the indexer import it from there", () => {
    const files = (d: string): string[] =>
      readdirSync(path.join(ROOT, d), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(d, e.name)) : /\.tsx?$/.test(e.name) ? [path.join(d, e.name)] : []));
    const writers = ["app", "workers", "lib", "components"]
      .flatMap(files)
      .filter((f) => !f.startsWith(path.join("lib", "knn")))
      .filter((f) => /\bshards:\s*z\.|\binclude_self:\s*z\.|\bexclude_doc_id:\s*z\./.test(readFileSync(path.join(ROOT, f), "utf8")));
    expect(writers).toEqual([]);
    expect(readFileSync(path.join(ROOT, "app/api/knn/query/route.ts"), "utf8")).toMatch(/import \{ knnQuerySchema \} from "@\/lib\/knn\/query"/);
    expect(readFileSync(path.join(ROOT, "workers/indexer/http.ts"), "utf8")).toMatch(/import \{ knnQuerySchema \} from "..\/..\/lib\/knn\/query"/);
  });

  it.each([
    { name: "an empty shards list (console and indexer once disagreed)", body: { text: "a", shards: [] }, message: "shards: shards is empty; leave it out to search every shard" },
    { name: "no query", body: { k: 3 }, message: "give exactly one of vector, doc_id or text (got none)" },
    { name: "two queries", body: { doc_id: "a", text: "b" }, message: "give exactly one of vector, doc_id or text (got doc_id and text)" },
    { name: "an unknown field", body: { text: "a", shard: [1] }, message: 'Unrecognized key: "shard"' },
    { name: "a zero vector", body: { vector: [0, 0] }, message: "vector is all zeros: cosine similarity is undefined for it" },
    { name: "an overflowing vector", body: { vector: [1e200, 1e200] }, message: "vector norm is not finite (values too large)" },
    { name: "a string component", body: { vector: [0.1, "x"] }, message: "vector.1: every vector component must be a finite number" },
    { name: "k = 0", body: { text: "a", k: 0 }, message: "k: k must be an integer from 1 to 1000" },
    { name: "an empty exclude_doc_id", body: { text: "a", exclude_doc_id: "" }, message: "exclude_doc_id: exclude_doc_id is empty" },
    { name: "a blank text", body: { text: "   " }, message: "text: text is empty" },
  ])("refuses $name", ({ body, message }) => {
    expect(refusal(body)).toBe(message);
  });

  it.each([
    { name: "a text, trimmed, with defaults", body: { text: "  hello " }, parsed: { text: "hello", k: 5, exact: false, include_self: false } },
    { name: "a vector with exclude_doc_id", body: { vector: [0.6, 0.8], exclude_doc_id: "d1", k: 3 }, parsed: { vector: [0.6, 0.8], exclude_doc_id: "d1", k: 3 } },
    { name: "a doc_id with shards", body: { doc_id: "d1", shards: [0, 31] }, parsed: { doc_id: "d1", shards: [0, 31] } },
  ])("accepts $name", ({ body, parsed }) => {
    expect(knnQuerySchema.parse(body)).toMatchObject(parsed);
  });
});
