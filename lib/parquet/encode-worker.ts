/**
 * The Parquet encoder's worker thread: Arrow table → Parquet bytes, off the
 * embed-worker's main thread (encoding costs ~25 µs a row there, about a tenth
 * of a row's whole cost at transport speed).
 */
import { serveRequests } from "../threads/serve-requests";
import { toParquet } from "./codec";
import { embeddingTableOf } from "./embedding-table";
import type { EncodeRequest } from "./encoder";

serveRequests((req: EncodeRequest) => {
  const bytes = toParquet(embeddingTableOf(req.rows, req.vectors, req.storeText));
  return { result: bytes, transfer: [bytes.buffer as ArrayBuffer] };
});
