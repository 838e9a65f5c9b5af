import { parentPort } from "node:worker_threads";
import type { ThreadReply } from "./request-thread";

/**
 * The thread side of a RequestThread: answer each request with `handle`,
 * transferring the buffers it names; a thrown error travels back by name and
 * message.
 */
export function serveRequests<Req, Res>(handle: (req: Req) => { result: Res; transfer?: ArrayBuffer[] }): void {
  const port = parentPort;
  if (!port) throw new Error("serveRequests must run in a worker thread");
  port.on("message", ({ id, req }: { id: number; req: Req }) => {
    let reply: ThreadReply<Res>;
    let transfer: ArrayBuffer[] = [];
    try {
      const answer = handle(req);
      reply = { id, result: answer.result };
      transfer = answer.transfer ?? [];
    } catch (err) {
      reply = { id, error: { name: err instanceof Error ? err.name : "Error", message: err instanceof Error ? err.message : String(err) } };
    }
    port.postMessage(reply, transfer);
  });
}
