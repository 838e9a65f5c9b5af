import { open } from "node:fs/promises";

/**
 * Row count of a Parquet file from its footer alone: the last 8 bytes are the
 * footer length and "PAR1"; the footer is a Thrift-compact FileMetaData whose
 * field 3 is num_rows. Reads only the footer, whatever the file's size. (Hand
 * decoded rather than through parquet-wasm: a WebAssembly module inside the
 * Next server bundle needs build configuration this reader does not.)
 */
export async function parquetRowCount(path: string): Promise<{ rows: number; bytes: number }> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    if (size < 12) throw new Error("not a Parquet file (too short)");
    const tail = Buffer.alloc(8);
    await fh.read(tail, 0, 8, size - 8);
    if (tail.toString("latin1", 4) !== "PAR1") throw new Error("not a Parquet file (no PAR1 footer)");
    const len = tail.readUInt32LE(0);
    if (len <= 0 || len > size - 12) throw new Error("corrupt Parquet footer length");
    const footer = Buffer.alloc(len);
    await fh.read(footer, 0, len, size - 8 - len);
    return { rows: readNumRows(footer), bytes: size };
  } finally {
    await fh.close();
  }
}

/** num_rows (field 3) of a Thrift-compact FileMetaData. Exported for tests. */
export function readNumRows(buf: Uint8Array): number {
  const r = new CompactReader(buf);
  let fieldId = 0;
  for (;;) {
    const header = r.byte();
    if (header === 0) break;
    const type = header & 0x0f;
    const delta = header >> 4;
    fieldId = delta === 0 ? r.zigzag() : fieldId + delta;
    if (fieldId === 3 && type === 6) return r.zigzag();
    r.skip(type);
  }
  throw new Error("Parquet footer has no num_rows");
}

class CompactReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  byte(): number {
    if (this.pos >= this.buf.length) throw new Error("truncated Parquet footer");
    return this.buf[this.pos++] as number;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new Error("bad varint in Parquet footer");
  }

  zigzag(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  skip(type: number): void {
    switch (type) {
      case 1: case 2: return; // bool in a field header
      case 3: this.pos += 1; return;
      case 4: case 5: case 6: this.varint(); return;
      case 7: this.pos += 8; return;
      case 8: {
        // Read the length first: `this.pos += this.varint()` would add to the position before the varint.
        const len = this.varint();
        this.pos += len;
        return;
      }
      case 9: case 10: {
        const h = this.byte();
        const size = h >> 4 === 15 ? this.varint() : h >> 4;
        const elem = h & 0x0f;
        for (let i = 0; i < size; i++) this.skipElement(elem);
        return;
      }
      case 11: {
        const size = this.varint();
        if (size === 0) return;
        const kv = this.byte();
        for (let i = 0; i < size; i++) {
          this.skipElement(kv >> 4);
          this.skipElement(kv & 0x0f);
        }
        return;
      }
      case 12: {
        for (;;) {
          const h = this.byte();
          if (h === 0) return;
          if (h >> 4 === 0) this.zigzag();
          this.skip(h & 0x0f);
        }
      }
      default:
        throw new Error(`unknown Thrift type ${type} in Parquet footer`);
    }
  }

  /** Inside lists and maps a bool takes a byte. */
  private skipElement(type: number): void {
    if (type === 1 || type === 2) this.pos += 1;
    else this.skip(type);
  }
}
