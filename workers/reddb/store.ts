import { open, type RootDatabase } from "lmdb";

/** LMDB refused a key (namespace + key or stream name) over its 1,978-byte limit: no retry changes that. */
export class KeyTooLongError extends Error {
  override name = "KeyTooLongError";
}

/** Run an LMDB write, turning its key-size refusal into a `KeyTooLongError`. */
async function writing<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof Error && /maximum key size/i.test(err.message)) throw new KeyTooLongError(err.message);
    throw err;
  }
}

/**
 * The store behind the RedDB-compatible server: one LMDB environment on disk
 * (memory-mapped, crash-safe, synced at every commit), so everything survives
 * a restart. Keys are ordered tuples:
 *   ["kv", ns, key]               → value
 *   ["s", ns, stream, offset]     → value      (offsets 0, 1, 2, … per stream)
 *   ["n", ns, stream]             → next offset
 */
export class ReddbStore {
  private readonly db: RootDatabase;

  constructor(dir: string) {
    this.db = open({ path: dir, compression: true });
  }

  async putKv(ns: string, key: string, value: unknown): Promise<void> {
    await writing(() => this.db.put(["kv", ns, key], value));
  }

  getKv(ns: string, key: string): unknown {
    return this.db.get(["kv", ns, key]);
  }

  /** True when the key existed. */
  async deleteKv(ns: string, key: string): Promise<boolean> {
    return writing(() => this.db.remove(["kv", ns, key]));
  }

  /** Append and return the record's offset; concurrent appends get distinct, gap-free offsets. */
  async append(ns: string, stream: string, value: unknown): Promise<number> {
    return writing(() =>
      this.db.transaction(() => {
        const offset = (this.db.get(["n", ns, stream]) as number | undefined) ?? 0;
        void this.db.put(["s", ns, stream, offset], value);
        void this.db.put(["n", ns, stream], offset + 1);
        return offset;
      }),
    );
  }

  read(ns: string, stream: string, start: number, count: number): { offset: number; value: unknown }[] {
    return [...this.db.getRange({ start: ["s", ns, stream, start], end: ["s", ns, stream, Number.MAX_SAFE_INTEGER], limit: count })].map(({ key, value }) => ({
      offset: (key as [string, string, string, number])[3],
      value,
    }));
  }

  /** The newest `limit` records, oldest first. */
  tail(ns: string, stream: string, limit: number): { offset: number; value: unknown }[] {
    const next = (this.db.get(["n", ns, stream]) as number | undefined) ?? 0;
    return this.read(ns, stream, Math.max(0, next - limit), limit);
  }

  length(ns: string, stream: string): number {
    return (this.db.get(["n", ns, stream]) as number | undefined) ?? 0;
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
