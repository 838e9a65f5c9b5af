import { RequestThread } from "../threads/request-thread";
import { flattenVectors, type EmbeddingRow, type EmbeddingRowMeta, type FlatVectors } from "./embedding-table";

export interface EncodeRequest {
  rows: EmbeddingRowMeta[];
  vectors: FlatVectors;
  storeText: boolean;
}

/**
 * Encodes rows as Parquet in a worker thread (encode-worker.ts), so the
 * caller's thread only flattens the vectors and copies the other fields.
 */
export class ParquetEncoder {
  private readonly thread = new RequestThread<EncodeRequest, Uint8Array>(new URL("./encode-thread.mjs", import.meta.url), "Parquet encoder");

  encode(rows: readonly EmbeddingRow[], storeText: boolean): Promise<Uint8Array> {
    const vectors = flattenVectors(rows);
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const meta = rows.map(({ vector, ...rest }) => rest);
    return this.thread.request({ rows: meta, vectors, storeText }, [vectors.offsets.buffer as ArrayBuffer, vectors.values.buffer as ArrayBuffer]);
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}
