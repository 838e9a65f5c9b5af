import { appendFile, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";

/** One recorded event: server time of the poll (epoch ms) and the event's data as on the wire (one line of JSON). */
export interface HistoryPoint {
  t: number;
  data: string;
}

export interface HistoryLog {
  warn(obj: object, msg: string): void;
}

export interface HistoryStoreOptions {
  /** Where each stream's `<name>.jsonl` lives; undefined keeps history in memory only. */
  dir?: string;
  /** How far back history goes (CONSOLE_HISTORY_HOURS). */
  windowMs: number;
  /** Every event younger than this is kept; older ones are thinned to one per bucket. */
  recentMs?: number;
  bucketMs?: number;
  /** Memory budget of one stream (event bytes + POINT_OVERHEAD each); past it the oldest points go. */
  maxBytesPerStream?: number;
  /** Rewrite a stream's file (downsampled, temp file + rename) at least this often while it records. */
  rewriteEveryMs?: number;
  now?: () => number;
  log?: HistoryLog;
}

export const RECENT_MS = 60 * 60_000;
export const BUCKET_MS = 60_000;
/**
 * Per-stream budget. Measured events as history keeps them (slim.ts): indexer
 * 1.1 KB, embed-worker 0.9 KB, lag 0.5 KB (3 groups × 3 partitions), others
 * 0.15–0.4 KB. 24 h at a 3 s poll is 1,200 events for the last hour + 1,380
 * one-per-minute points = 2,580 points: ≤ 3.3 MB of heap for the biggest
 * stream, 12.8 MB measured for all seven. 8 MiB leaves room for larger clusters; past it a stream gets
 * coarser, then shorter (a lag event of 54 groups, 10.6 KB, keeps ~8 h), never
 * bigger. Disk: the same lines plus at most a quarter of the budget appended
 * since the last rewrite, so ≤ 10 MiB per stream.
 */
export const DEFAULT_MAX_BYTES_PER_STREAM = 8 * 1024 * 1024;
/**
 * Heap cost of one point beyond its JSON characters (object, array slot, string
 * header), measured: 24 h of the seven default streams (17,100 points, 9.3 MB of
 * JSON) took 12.8 MB of heap after GC, ~190 bytes a point.
 */
export const POINT_OVERHEAD = 192;
const REWRITE_EVERY_MS = 10 * 60_000;
/** Over budget, only this much stays at full resolution (enough for the 15 min window). */
const PRESSURE_RECENT_MS = 15 * 60_000;

/** Stream names become file names: nothing that could leave the directory. */
const SAFE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

interface Series {
  points: HistoryPoint[];
  bytes: number;
  /** Bucket (minute) of the last downsampling pass. */
  maintainedBucket: number;
  /** Bytes appended to the file since it was last rewritten. */
  appended: number;
  rewrittenAt: number;
  /** Points were dropped from memory since the file was last rewritten (by an add or a query). */
  pruned: boolean;
  /** File operations of this stream run one after another (appends never race a rewrite). */
  queue: Promise<void>;
  warned: boolean;
}

const cost = (p: HistoryPoint) => p.data.length + POINT_OVERHEAD;
const line = (p: HistoryPoint) => `{"t":${p.t},"data":${p.data}}\n`;

/**
 * The console's history of its SSE streams: every event of the last hour, then
 * the last event of each minute, up to the window; nothing older. In memory,
 * bounded per stream, and in one append-only JSONL file per stream, rewritten
 * (downsampled) periodically through a temp file and a rename so a crash leaves
 * either the old file or the new one.
 */
export class HistoryStore {
  private readonly series = new Map<string, Series>();
  private readonly windowMs: number;
  private readonly recentMs: number;
  private readonly bucketMs: number;
  private readonly maxBytes: number;
  private readonly rewriteEveryMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: HistoryStoreOptions) {
    this.windowMs = opts.windowMs;
    this.recentMs = Math.min(opts.recentMs ?? RECENT_MS, opts.windowMs);
    this.bucketMs = opts.bucketMs ?? BUCKET_MS;
    this.maxBytes = opts.maxBytesPerStream ?? DEFAULT_MAX_BYTES_PER_STREAM;
    this.rewriteEveryMs = opts.rewriteEveryMs ?? REWRITE_EVERY_MS;
    this.now = opts.now ?? Date.now;
  }

  private file(name: string): string | undefined {
    return this.opts.dir ? path.join(this.opts.dir, `${name}.jsonl`) : undefined;
  }

  private get(name: string): Series {
    if (!SAFE_NAME.test(name)) throw new Error(`history: bad stream name ${JSON.stringify(name)}`);
    let s = this.series.get(name);
    if (!s) {
      s = { points: [], bytes: 0, maintainedBucket: -1, appended: 0, rewrittenAt: this.now(), pruned: false, queue: Promise.resolve(), warned: false };
      this.series.set(name, s);
    }
    return s;
  }

  /**
   * Read each stream's file. A torn last line (a crash mid-append) is dropped;
   * any other unreadable line makes the file corrupt: one warning, the file is
   * moved aside to `<name>.jsonl.corrupt`, and the stream starts empty. Each
   * file is then rewritten from what was kept, downsampled for the time the
   * console was down.
   */
  async load(names: readonly string[]): Promise<void> {
    const dir = this.opts.dir;
    if (!dir) return;
    await mkdir(dir, { recursive: true });
    for (const name of names) {
      const s = this.get(name);
      const file = this.file(name)!;
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.warn(s, name, err, "history file unreadable; starting empty");
        continue;
      }
      const points = parseLines(text);
      if (!points) {
        this.opts.log?.warn({ stream: name, file }, "history file corrupt; moved aside to .corrupt, starting empty");
        await rename(file, `${file}.corrupt`).catch(() => {});
        continue;
      }
      // A point from the future (the clock was set back since) would pin every new
      // event to its time, since history stays in time order: it goes.
      const now = this.now();
      s.points = points.filter((p) => p.t <= now + this.bucketMs).sort((a, b) => a.t - b.t);
      s.bytes = s.points.reduce((n, p) => n + cost(p), 0);
      this.maintain(s, now, true);
      this.rewrite(name, s);
    }
    await this.flush();
  }

  /** Record one event of `name` (data: its JSON) at `t` (default: now). */
  add(name: string, data: string, t = this.now()): void {
    const s = this.get(name);
    const last = s.points.at(-1);
    // Oldest first, always: a clock stepping back does not reorder history.
    const p = { t: last && t < last.t ? last.t : t, data };
    s.points.push(p);
    s.bytes += cost(p);
    this.maintain(s, p.t, false);
    const file = this.file(name);
    if (!file) return;
    if (s.pruned && (s.appended > this.maxBytes / 4 || p.t - s.rewrittenAt >= this.rewriteEveryMs)) {
      this.rewrite(name, s);
      return;
    }
    const text = line(p);
    s.appended += text.length;
    this.enqueue(name, s, () => appendFile(file, text));
  }

  /** Points of each stream from the last `windowMs` (oldest first). */
  query(names: readonly string[], windowMs: number, now = this.now()): Record<string, HistoryPoint[]> {
    const out: Record<string, HistoryPoint[]> = {};
    const from = now - windowMs;
    for (const name of names) {
      const s = this.series.get(name);
      if (!s) {
        out[name] = [];
        continue;
      }
      // Exact at the time asked: thin what aged past the recent hour since the last pass.
      this.maintain(s, now, true);
      let i = s.points.length;
      while (i > 0 && s.points[i - 1]!.t >= from) i--;
      out[name] = s.points.slice(i);
    }
    return out;
  }

  /** Memory held per stream (event characters + per-point overhead) and point counts. */
  stats(): Record<string, { points: number; bytes: number }> {
    return Object.fromEntries([...this.series].map(([name, s]) => [name, { points: s.points.length, bytes: s.bytes }]));
  }

  /** Resolves when every file write queued so far is done. */
  async flush(): Promise<void> {
    await Promise.all([...this.series.values()].map((s) => s.queue));
  }

  /**
   * Drop what is past the window, thin what is past the recent hour to the last
   * point of each bucket (once per bucket unless forced), then drop the oldest
   * points while over the byte budget.
   */
  private maintain(s: Series, now: number, force: boolean): void {
    const before = s.points.length;
    const bucket = Math.floor(now / this.bucketMs);
    if (force || bucket !== s.maintainedBucket) {
      s.maintainedBucket = bucket;
      this.thin(s, now, now - this.recentMs);
    }
    if (s.bytes > this.maxBytes) {
      // Over budget: coarser before shorter. Keep every event of the last
      // PRESSURE_RECENT_MS only, one per bucket before; then drop the oldest.
      this.thin(s, now, now - Math.min(this.recentMs, PRESSURE_RECENT_MS));
      let drop = 0;
      while (s.bytes > this.maxBytes && drop < s.points.length - 1) s.bytes -= cost(s.points[drop++]!);
      s.points.splice(0, drop);
    }
    if (s.points.length < before) s.pruned = true;
  }

  /** Drop points past the window; before `recentFrom`, keep only the last point of each bucket. */
  private thin(s: Series, now: number, recentFrom: number): void {
    const cutoff = now - this.windowMs;
    const kept: HistoryPoint[] = [];
    let bytes = 0;
    const pts = s.points;
    for (let i = 0; i < pts.length; i++) {
      const p = pts[i]!;
      if (p.t < cutoff) continue;
      const next = pts[i + 1];
      const last = p.t >= recentFrom || !next || next.t >= recentFrom || Math.floor(next.t / this.bucketMs) !== Math.floor(p.t / this.bucketMs);
      if (!last) continue;
      kept.push(p);
      bytes += cost(p);
    }
    s.points = kept;
    s.bytes = bytes;
  }

  /** Replace the file by the points in memory: temp file, then rename over it. */
  private rewrite(name: string, s: Series): void {
    const file = this.file(name);
    if (!file) return;
    s.appended = 0;
    s.pruned = false;
    s.rewrittenAt = s.points.at(-1)?.t ?? this.now();
    const snapshot = s.points.slice();
    // Per process: two consoles on one DATA_DIR must not write the same temp file.
    const tmp = `${file}.${process.pid}.tmp`;
    this.enqueue(name, s, async () => {
      await writeFile(tmp, snapshot.map(line).join(""));
      await rename(tmp, file);
    });
  }

  private enqueue(name: string, s: Series, op: () => Promise<void>): void {
    s.queue = s.queue.then(op).catch((err) => this.warn(s, name, err, "history file write failed; history is kept in memory"));
  }

  /** One warning per stream, not one per event, while its file cannot be written. */
  private warn(s: Series, name: string, err: unknown, msg: string): void {
    if (s.warned) return;
    s.warned = true;
    this.opts.log?.warn({ stream: name, err: err instanceof Error ? err.message : String(err) }, msg);
  }
}

/** The points of a JSONL file, or null when a line other than a torn last one is unreadable. */
export function parseLines(text: string): HistoryPoint[] | null {
  const lines = text.split("\n");
  const points: HistoryPoint[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw === "") continue;
    const isLast = i === lines.length - 1; // no newline after it: possibly torn
    const p = parsePoint(raw);
    if (p) points.push(p);
    else if (!isLast) return null;
  }
  return points;
}

function parsePoint(raw: string): HistoryPoint | undefined {
  try {
    const v = JSON.parse(raw) as { t?: unknown; data?: unknown };
    if (typeof v !== "object" || v === null || typeof v.t !== "number" || !Number.isFinite(v.t) || v.data === undefined) return undefined;
    return { t: v.t, data: JSON.stringify(v.data) };
  } catch {
    return undefined;
  }
}
