import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { EmbeddingRow } from "./embedding-table";
import { ParquetEncoder } from "./encoder";
import { TMP_SUFFIX, formatFileName, parseFileName, type ParquetFileName } from "./file-name";

export interface UnitRange {
  topic: string;
  partition: number;
  firstOffset: bigint;
  lastOffset: bigint;
}

/**
 * The Parquet sink of the embed-worker. Each unit of work (a run of offsets of
 * one source partition, committed to Kafka in one transaction) becomes at most
 * one file, written before the transaction commits. Crash safety is a protocol
 * between this sink and the Kafka commit — see workers/embed/unit-of-work.ts:
 *
 *  1. write `<name>.tmp`, fsync it, rename it to `<name>`, fsync the directory;
 *  2. commit the Kafka transaction (outputs + consumed offsets);
 *  3. when a worker takes a partition over (or recovers from a failed commit) it
 *     first fences the previous owner's transactional producer, then reads the
 *     group's committed offset C and deletes every file of that partition whose
 *     first offset is ≥ C: those were renamed but their transaction never
 *     committed, and their offsets will be consumed — and written — again.
 *
 * So a file exists for a range exactly when its transaction committed (or the
 * range is still in flight), and a crash at any moment neither duplicates nor
 * loses a row across files.
 */
export class ParquetSink {
  /** Distinguishes this process's files from a predecessor's with the same range. */
  readonly writer = randomBytes(4).toString("hex");
  private readonly encoder = new ParquetEncoder();

  constructor(
    readonly dir: string,
    private readonly storeText: boolean,
  ) {}

  async init(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
  }

  /** Stop the encoder thread. */
  close(): Promise<void> {
    return this.encoder.close();
  }

  /** Write the unit's rows as one file, atomically; returns its name. */
  async write(range: UnitRange, rows: readonly EmbeddingRow[], beforeRename?: () => void): Promise<string> {
    const name = formatFileName({ ...range, writer: this.writer });
    const final = path.join(this.dir, name);
    const tmp = final + TMP_SUFFIX;
    const bytes = await this.encoder.encode(rows, this.storeText);
    const handle = await fs.open(tmp, "w");
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // Last chance for the caller to notice it lost the partition: a file renamed
    // by a worker that no longer owns the range would be deleted only at the
    // next takeover.
    try {
      beforeRename?.();
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
    await fs.rename(tmp, final);
    await this.syncDir();
    return name;
  }

  /** Remove a file this process wrote whose transaction did not commit. */
  async discard(name: string): Promise<void> {
    await fs.rm(path.join(this.dir, name), { force: true });
    await this.syncDir();
  }

  /**
   * Step 3 of the protocol: delete the partition's files (and leftover temp
   * files) at or beyond the committed offset. Only safe after the previous
   * owner's producer has been fenced. Returns the names deleted.
   */
  async dropUncommitted(topic: string, partition: number, committedOffset: bigint): Promise<string[]> {
    const dropped: string[] = [];
    for (const entry of await fs.readdir(this.dir)) {
      const isTmp = entry.endsWith(TMP_SUFFIX);
      const f = parseFileName(isTmp ? entry.slice(0, -TMP_SUFFIX.length) : entry);
      if (!f || f.topic !== topic || f.partition !== partition) continue;
      if (isTmp || f.firstOffset >= committedOffset) {
        await fs.rm(path.join(this.dir, entry), { force: true });
        dropped.push(entry);
      }
    }
    if (dropped.length > 0) await this.syncDir();
    return dropped;
  }

  /** Every sink file in the directory, in name (= partition, offset) order. */
  async files(): Promise<(ParquetFileName & { name: string })[]> {
    const entries = await fs.readdir(this.dir).catch(() => [] as string[]);
    return entries.sort().flatMap((name) => {
      const f = parseFileName(name);
      return f ? [{ ...f, name }] : [];
    });
  }

  /** A rename is durable only once the directory entry is on disk. */
  private async syncDir(): Promise<void> {
    const handle = await fs.open(this.dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
