import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HistoryStore, POINT_OVERHEAD, type HistoryLog } from "@/lib/history/store";

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 11, 2, 0, 0, 0);

const dirs: string[] = [];
const stores: HistoryStore[] = [];
/** A store whose pending writes the test's cleanup waits for before it deletes the directory. */
class TrackedStore extends HistoryStore {
  constructor(...args: ConstructorParameters<typeof HistoryStore>) {
    super(...args);
    stores.push(this);
  }
}
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.flush()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), "history-"));
  dirs.push(d);
  return d;
}

/** A clock the test moves by hand. */
function clock(start = T0) {
  const c = { now: start, fn: () => c.now };
  return c;
}

function recordingLog() {
  const warnings: { obj: object; msg: string }[] = [];
  const log: HistoryLog = { warn: (obj, msg) => warnings.push({ obj, msg }) };
  return { log, warnings };
}

/** `count` events of `name`, one every `everyMs`, starting at the clock's time; the clock ends at the last one. */
function feed(store: HistoryStore, c: { now: number }, name: string, count: number, everyMs: number, data = (t: number) => JSON.stringify({ at: t })) {
  for (let i = 0; i < count; i++) {
    if (i > 0) c.now += everyMs;
    store.add(name, data(c.now));
  }
}

describe("history store: what is kept", () => {
  it("keeps every event of the last hour, the last of each minute before, and nothing older than the window", () => {
    const c = clock();
    const store = new TrackedStore({ windowMs: 24 * HOUR, now: c.fn });
    feed(store, c, "lag", (26 * HOUR) / (10 * SEC), 10 * SEC); // 26 h at one event per 10 s
    const now = c.now;
    const points = store.query(["lag"], 24 * HOUR).lag!;
    const ts = points.map((p) => p.t);
    expect(ts[0]).toBeGreaterThanOrEqual(now - 24 * HOUR);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    // The last hour: every event (one per 10 s).
    const recent = ts.filter((t) => t >= now - HOUR);
    expect(recent).toEqual(Array.from({ length: 361 }, (_, i) => now - HOUR + i * 10 * SEC));
    // Before it: one per minute, the minute's last event (the one at :50).
    const old = ts.filter((t) => t < now - HOUR);
    const minutes = old.map((t) => Math.floor(t / MIN));
    expect(new Set(minutes).size).toBe(old.length);
    // (the minute cut by the hour's edge keeps its last event before the edge too)
    expect(old.slice(0, -1).every((t) => t % MIN === 50 * SEC)).toBe(true);
    expect(old.length).toBeGreaterThanOrEqual(23 * 60 - 1);
    expect(old.length).toBeLessThanOrEqual(23 * 60 + 1);
    // Data goes back out as it came in.
    expect(JSON.parse(points.at(-1)!.data)).toEqual({ at: now });
  });

  it("answers a window with the points of that window only", () => {
    const c = clock();
    const store = new TrackedStore({ windowMs: 24 * HOUR, now: c.fn });
    feed(store, c, "infermesh", 2 * HOUR / (3 * SEC), 3 * SEC);
    const q = store.query(["infermesh", "spark"], 15 * MIN);
    expect(q.spark).toEqual([]);
    expect(q.infermesh!.length).toBe(301); // 15 min at 3 s, both ends included
    expect(q.infermesh!.every((p) => p.t >= c.now - 15 * MIN)).toBe(true);
  });

  it("forgets everything older than a shorter configured window, even with no new events", () => {
    const c = clock();
    const store = new TrackedStore({ windowMs: 2 * HOUR, now: c.fn });
    feed(store, c, "dlq", 100, 5 * SEC);
    c.now += 3 * HOUR;
    expect(store.query(["dlq"], 24 * HOUR).dlq).toEqual([]);
  });

  it("keeps time order when the clock steps back", () => {
    const c = clock();
    const store = new TrackedStore({ windowMs: HOUR, now: c.fn });
    store.add("lag", "{}");
    c.now -= 5 * SEC;
    store.add("lag", "{}");
    expect(store.query(["lag"], HOUR, T0).lag!.map((p) => p.t)).toEqual([T0, T0]);
  });

  it("refuses a stream name that could leave the history directory", () => {
    const store = new TrackedStore({ windowMs: HOUR });
    for (const bad of ["../x", "a/b", "", ".hidden"]) expect(() => store.add(bad, "{}")).toThrow(/bad stream name/);
  });
});

describe("history store: persistence", () => {
  it("a fresh store on the same directory (a console restart) serves the same history", async () => {
    const dir = tempDir();
    const c = clock();
    const first = new TrackedStore({ dir, windowMs: 24 * HOUR, now: c.fn });
    await first.load(["lag", "indexer"]);
    feed(first, c, "lag", 3 * HOUR / (3 * SEC), 3 * SEC);
    feed(first, c, "indexer", 10, 3 * SEC);
    await first.flush();
    const before = first.query(["lag", "indexer"], 24 * HOUR);

    const second = new TrackedStore({ dir, windowMs: 24 * HOUR, now: c.fn });
    await second.load(["lag", "indexer"]);
    expect(second.query(["lag", "indexer"], 24 * HOUR)).toEqual(before);
    expect(before.lag!.length).toBeGreaterThan(1200);
  }, 30_000);

  it("downsamples on load what aged while the console was down, and rewrites the file to match", async () => {
    const dir = tempDir();
    const c = clock();
    const first = new TrackedStore({ dir, windowMs: 24 * HOUR, now: c.fn });
    await first.load(["lag"]);
    feed(first, c, "lag", 1200, 3 * SEC); // one hour at 3 s: all kept
    await first.flush();
    c.now += 2 * HOUR;
    const second = new TrackedStore({ dir, windowMs: 24 * HOUR, now: c.fn });
    await second.load(["lag"]);
    const points = second.query(["lag"], 24 * HOUR).lag!;
    expect(points.length).toBeLessThanOrEqual(61);
    expect(readFileSync(path.join(dir, "lag.jsonl"), "utf8").trim().split("\n")).toHaveLength(points.length);
  });

  it("drops a torn last line (a crash mid-append) without a warning, and appends cleanly after it", async () => {
    const dir = tempDir();
    const c = clock();
    const lines = [0, 1, 2].map((i) => JSON.stringify({ t: T0 + i * SEC, data: { n: i } }));
    writeFileSync(path.join(dir, "lag.jsonl"), `${lines.join("\n")}\n{"t":${T0 + 3 * SEC},"data":{"n"`);
    const { log, warnings } = recordingLog();
    c.now = T0 + 4 * SEC;
    const store = new TrackedStore({ dir, windowMs: HOUR, now: c.fn, log });
    await store.load(["lag"]);
    expect(store.query(["lag"], HOUR).lag!.map((p) => JSON.parse(p.data))).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    expect(warnings).toEqual([]);
    store.add("lag", JSON.stringify({ n: 4 }));
    await store.flush();
    const again = new TrackedStore({ dir, windowMs: HOUR, now: c.fn, log });
    await again.load(["lag"]);
    expect(again.query(["lag"], HOUR).lag!.map((p) => JSON.parse(p.data))).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 4 }]);
    expect(warnings).toEqual([]);
  });

  it("drops points stamped in the future (the clock was set back) so new events keep their own time", async () => {
    const dir = tempDir();
    const lines = [T0 - MIN, T0 + 5 * HOUR].map((t) => JSON.stringify({ t, data: { t } }));
    writeFileSync(path.join(dir, "lag.jsonl"), `${lines.join("\n")}\n`);
    const c = clock();
    const store = new TrackedStore({ dir, windowMs: HOUR, now: c.fn });
    await store.load(["lag"]);
    store.add("lag", "{}");
    expect(store.query(["lag"], HOUR).lag!.map((p) => p.t)).toEqual([T0 - MIN, T0]);
  });

  it.each([
    ["a garbled line in the middle", (good: string) => `${good}\nnot json at all\n${good}\n`],
    ["binary garbage", () => "\u0000\u0001\u0002 garbage\n\u00ff\n"],
    ["a line without a time", () => `${JSON.stringify({ data: { n: 1 } })}\n${JSON.stringify({ t: T0, data: {} })}\n`],
  ])("a corrupt file (%s): one warning, moved aside, the stream starts empty and records again", async (_, content) => {
    const dir = tempDir();
    const file = path.join(dir, "infermesh.jsonl");
    writeFileSync(file, content(JSON.stringify({ t: T0, data: { ok: true } })));
    const { log, warnings } = recordingLog();
    const c = clock(T0 + MIN);
    const store = new TrackedStore({ dir, windowMs: HOUR, now: c.fn, log });
    await store.load(["infermesh", "lag"]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/corrupt/);
    expect(warnings[0]!.obj).toMatchObject({ stream: "infermesh" });
    expect(store.query(["infermesh"], HOUR).infermesh).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(["infermesh.jsonl.corrupt"]);
    store.add("infermesh", JSON.stringify({ n: 1 }));
    await store.flush();
    const again = new TrackedStore({ dir, windowMs: HOUR, now: c.fn, log });
    await again.load(["infermesh"]);
    expect(again.query(["infermesh"], HOUR).infermesh!.map((p) => JSON.parse(p.data))).toEqual([{ n: 1 }]);
    expect(warnings).toHaveLength(1);
  });

  it("keeps recording in memory, with one warning, when the directory cannot be written", async () => {
    const dir = tempDir();
    const blocker = path.join(dir, "file-not-dir");
    writeFileSync(blocker, "");
    const { log, warnings } = recordingLog();
    const c = clock();
    const store = new TrackedStore({ dir: path.join(blocker, "history"), windowMs: HOUR, now: c.fn, log });
    await expect(store.load(["lag"])).rejects.toThrow();
    feed(store, c, "lag", 5, SEC);
    await store.flush();
    expect(store.query(["lag"], HOUR).lag).toHaveLength(5);
    expect(warnings).toHaveLength(1);
  });
});

describe("history store: bounds", () => {
  it("a flood of events keeps memory and disk under the per-stream cap", async () => {
    const dir = tempDir();
    const maxBytes = 256 * 1024;
    const c = clock();
    const store = new TrackedStore({ dir, windowMs: 24 * HOUR, maxBytesPerStream: maxBytes, now: c.fn });
    await store.load(["lag"]);
    const payload = JSON.stringify({ pad: "x".repeat(1000) });
    let maxFile = 0;
    for (let i = 0; i < 3000; i++) {
      c.now += 10; // 100 events a second: far past any poll interval
      store.add("lag", payload);
      expect(store.stats().lag!.bytes).toBeLessThanOrEqual(maxBytes);
      if (i % 250 === 0) {
        await store.flush();
        maxFile = Math.max(maxFile, statSync(path.join(dir, "lag.jsonl")).size);
      }
    }
    await store.flush();
    maxFile = Math.max(maxFile, statSync(path.join(dir, "lag.jsonl")).size);
    // Disk: what memory holds (each line shorter than its in-memory cost) plus at most a quarter of the cap appended since the last rewrite.
    expect(maxFile).toBeLessThanOrEqual(maxBytes * 1.25 + payload.length + 64);
    const points = store.query(["lag"], 24 * HOUR).lag!;
    expect(points.length).toBeGreaterThan(0);
    expect(points.length).toBeLessThanOrEqual(maxBytes / (payload.length + POINT_OVERHEAD));
    expect(points.at(-1)!.t).toBe(c.now);
  }, 30_000);

  it("keeps the file compacted (within 10 min of appends) even when a client queries after every event", async () => {
    const dir = tempDir();
    const c = clock();
    const store = new TrackedStore({ dir, windowMs: 24 * HOUR, now: c.fn });
    await store.load(["lag"]);
    for (let i = 0; i < (3 * HOUR) / (3 * SEC); i++) {
      c.now += 3 * SEC;
      store.add("lag", JSON.stringify({ i }));
      store.query(["lag"], 15 * MIN);
    }
    await store.flush();
    const lines = readFileSync(path.join(dir, "lag.jsonl"), "utf8").trim().split("\n").length;
    const kept = store.query(["lag"], 24 * HOUR).lag!.length;
    expect(kept).toBeLessThanOrEqual(1201 + 2 * 60 + 1);
    expect(lines).toBeLessThanOrEqual(kept + (10 * MIN) / (3 * SEC) + 1);
  }, 30_000);

  it("over budget, thins to one point per minute past the last 15 min before it shortens the window", () => {
    const c = clock();
    // 10 KB events every 3 s (a lag event of a large cluster): 24 h would be ~26 MB; the cap is 8 MiB.
    const event = JSON.stringify({ pad: "x".repeat(10_000) });
    const store = new TrackedStore({ windowMs: 24 * HOUR, maxBytesPerStream: 8 * 1024 * 1024, now: c.fn });
    feed(store, c, "lag", (25 * HOUR) / (3 * SEC), 3 * SEC, () => event);
    const points = store.query(["lag"], 24 * HOUR).lag!;
    expect(store.stats().lag!.bytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(points.filter((p) => p.t >= c.now - 15 * MIN)).toHaveLength(301);
    // Coarser first: far more than the 14 minutes 8 MiB of full-resolution points would cover.
    expect(c.now - points[0]!.t).toBeGreaterThan(6 * HOUR);
  }, 30_000);
});
