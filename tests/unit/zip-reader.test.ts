import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { extractZipEntry, listZipEntries, ZipError } from "@/scripts/install/zip";

/**
 * The installer's zip reader on archives laid out byte by byte from the zip
 * specification (APPNOTE 4.3), so each case is exactly the layout it names.
 */

interface Member {
  name: string;
  data: Buffer;
  method?: 0 | 8 | 12;
  /** Extra field in the local header only (jar tools add some; the central directory's may differ). */
  localExtra?: Buffer;
}

/** A header of `size` bytes with little-endian fields [offset, value, width], as the specification's tables list them. */
function header(size: number, fields: [number, number, 2 | 4][]): Buffer {
  const b = Buffer.alloc(size);
  for (const [offset, value, width] of fields) {
    if (width === 2) b.writeUInt16LE(value, offset);
    else b.writeUInt32LE(value, offset);
  }
  return b;
}

function zip(members: Member[], opts: { comment?: string; zip64Marker?: boolean } = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const method = m.method ?? 8;
    const body = method === 8 ? zlib.deflateRawSync(m.data) : m.data;
    const name = Buffer.from(m.name);
    const extra = m.localExtra ?? Buffer.alloc(0);
    const local = header(30, [
      [0, 0x04034b50, 4],
      [8, method, 2],
      [18, body.length, 4],
      [22, m.data.length, 4],
      [26, name.length, 2],
      [28, extra.length, 2],
    ]);
    const central = header(46, [
      [0, 0x02014b50, 4],
      [10, method, 2],
      [20, body.length, 4],
      [24, m.data.length, 4],
      [28, name.length, 2],
      [42, offset, 4],
    ]);
    const localBytes = Buffer.concat([local, name, extra, body]);
    locals.push(localBytes);
    centrals.push(Buffer.concat([central, name]));
    offset += localBytes.length;
  }
  const cd = Buffer.concat(centrals);
  const comment = Buffer.from(opts.comment ?? "");
  const eocd = header(22, [
    [0, 0x06054b50, 4],
    [8, members.length, 2],
    [10, opts.zip64Marker ? 0xffff : members.length, 2],
    [12, cd.length, 4],
    [16, opts.zip64Marker ? 0xffffffff : offset, 4],
    [20, comment.length, 2],
  ]);
  return Buffer.concat([...locals, cd, eocd, comment]);
}

const dir = mkdtempSync(path.join(os.tmpdir(), "embedline-zip-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function write(bytes: Buffer): string {
  const file = path.join(dir, `archive-${n++}.zip`);
  writeFileSync(file, bytes);
  return file;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
// Compressible and long enough to span several 1 MiB reads.
const big = Buffer.from("the quick brown fox jumps over the lazy dog ".repeat(60_000));
const small = Buffer.from('{"model":"tiny","vocab":["[CLS]","[SEP]","é","🙂"]}');

describe("zip reader", () => {
  it("lists the central directory and extracts deflated and stored entries with their size and sha256", async () => {
    const file = write(
      zip(
        [
          { name: "META-INF/", data: Buffer.alloc(0), method: 0 },
          { name: "model.onnx", data: big },
          { name: "dir/tokenizer.json", data: small, method: 0, localExtra: Buffer.from([0xfe, 0xca, 4, 0, 1, 2, 3, 4]) },
        ],
        { comment: "built by hand" },
      ),
    );
    const entries = await listZipEntries(file);
    expect(entries.map((e) => [e.name, e.method, e.size])).toEqual([
      ["META-INF/", 0, 0],
      ["model.onnx", 8, big.length],
      ["dir/tokenizer.json", 0, small.length],
    ]);
    for (const [entry, expected] of [
      [entries[1]!, big],
      [entries[2]!, small],
    ] as const) {
      const dest = path.join(dir, `out-${n++}`);
      expect(await extractZipEntry(file, entry, dest)).toEqual({ bytes: expected.length, sha256: sha256(expected) });
      expect(readFileSync(dest).equals(expected)).toBe(true);
    }
  });

  it.each([
    ["not a zip at all", () => write(Buffer.from("just some text, long enough to be searched for a signature")), /not a zip file/],
    ["a zip64 archive", () => write(zip([{ name: "a", data: small }], { zip64Marker: true })), /zip64/],
    ["a truncated archive", () => write(zip([{ name: "a", data: big }]).subarray(0, 100)), /not a zip file/],
  ])("refuses %s with a ZipError", async (_what, make, message) => {
    await expect(listZipEntries(make())).rejects.toThrow(message);
    await expect(listZipEntries(make())).rejects.toBeInstanceOf(ZipError);
  });

  it("refuses an entry compressed with a method it does not read (bzip2)", async () => {
    const file = write(zip([{ name: "x.bin", data: small, method: 12 }]));
    const [entry] = await listZipEntries(file);
    await expect(extractZipEntry(file, entry!, path.join(dir, "never"))).rejects.toThrow(/compression method 12/);
  });

  it("fails on a deflated entry whose bytes are damaged rather than writing garbage quietly", async () => {
    const bytes = zip([{ name: "model.onnx", data: big }]);
    bytes.fill(0xff, 200, 260); // inside the deflate stream
    const file = write(bytes);
    const [entry] = await listZipEntries(file);
    // Either inflate rejects the stream or the digest shows the damage; never the original's digest.
    const outcome = await extractZipEntry(file, entry!, path.join(dir, "damaged")).then(
      (r) => r.sha256,
      (err: Error) => err.message,
    );
    expect(outcome).not.toBe(sha256(big));
  });
});
