import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Producer } from "kafkajs";
import { afterEach, describe, expect, it } from "vitest";
import { ParquetSink } from "../../lib/parquet";
import { isFenced } from "../../lib/kafka/errors";
import { commitUnit, transformUnit } from "../../workers/embed/unit-of-work";
import { inputMessage, unitDeps } from "./embed-unit-fixtures";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setUp() {
  const dir = mkdtempSync(path.join(tmpdir(), "commit-fenced-"));
  dirs.push(dir);
  const parquet = new ParquetSink(dir, true);
  await parquet.init();
  const deps = unitDeps({ parquet });
  const messages = [inputMessage(10, JSON.stringify({ text: "a" })), inputMessage(11, JSON.stringify({ text: "b" }))];
  const result = await transformUnit(deps, "in", 0, messages);
  return { dir, deps, result, parquet, range: { topic: "in", partition: 0, firstOffset: "10", lastOffset: "11" } };
}

/** A transactional producer whose commit fails with `err`. */
const failingCommit = (err: Error) =>
  ({
    transaction: async () => ({ sendBatch: async () => undefined, sendOffsets: async () => undefined, commit: async () => Promise.reject(err), abort: async () => undefined }),
  }) as unknown as Producer;

const kafkaError = (type: string) => Object.assign(new Error(type), { type });

describe("a unit whose commit fails", () => {
  it("removes its own Parquet file when fenced: that transaction can never commit", async () => {
    const { dir, deps, result, parquet, range } = await setUp();
    // kafkajs wraps the protocol error once it stops retrying.
    const fenced = Object.assign(new Error("retries exhausted"), { originalError: kafkaError("INVALID_PRODUCER_EPOCH") });
    await expect(commitUnit(deps, failingCommit(fenced), range, result, () => true)).rejects.toBe(fenced);
    expect(readdirSync(dir)).toEqual([]);
    await parquet.close();
  });

  it("keeps the file on any other failure: only the next takeover knows whether it committed", async () => {
    const { dir, deps, result, parquet, range } = await setUp();
    await expect(commitUnit(deps, failingCommit(kafkaError("REQUEST_TIMED_OUT")), range, result, () => true)).rejects.toThrow();
    expect(readdirSync(dir)).toHaveLength(1);
    await parquet.close();
  });

  it("isFenced reads kafkajs' error types, wrapped or not", () => {
    expect(isFenced(kafkaError("PRODUCER_FENCED"))).toBe(true);
    expect(isFenced(Object.assign(new Error("x"), { cause: kafkaError("INVALID_PRODUCER_EPOCH") }))).toBe(true);
    expect(isFenced(kafkaError("NOT_COORDINATOR"))).toBe(false);
    expect(isFenced("INVALID_PRODUCER_EPOCH")).toBe(false);
  });
});
