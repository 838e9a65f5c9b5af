/**
 * The Parquet encoder's worker thread: Arrow table → Parquet bytes, off the
 * embed-worker's main thread (encoding costs ~25 µs a row there, about a tenth
 * of a row's whole cost at transport speed).
 */
import { parentPort } from "node:worker_threads";
import { toParquet } from "./codec";
import { embeddingTableOf } from "./embedding-table";
import type { EncodeReply, EncodeRequest } from "./encoder";

const port = parentPort;
if (!port) throw new Error("encode-worker must run in a worker thread");

port.on("message", (req: EncodeRequest) => {
  let reply: EncodeReply;
  try {
    const bytes = toParquet(embeddingTableOf(req.rows, req.vectors, req.storeText));
    reply = { id: req.id, bytes };
    port.postMessage(reply, [bytes.buffer as ArrayBuffer]);
  } catch (err) {
    reply = { id: req.id, error: err instanceof Error ? err.message : String(err) };
    port.postMessage(reply);
  }
});
