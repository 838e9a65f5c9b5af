/**
 * A RedDB-compatible store (the seed's optional sink): KV and append-only
 * streams over HTTP on LMDB, surviving restarts. Started by `npm start -- --reddb`.
 *
 *   node --conditions=react-server --import tsx workers/reddb/index.ts
 */
import { mkdirSync } from "node:fs";
import { loadOrExit } from "../../lib/config/load";
import { parseReddbServerConfig } from "../../lib/config/reddb";
import { createLogger } from "../../lib/log";
import { createReddbServer } from "./http";
import { ReddbStore } from "./store";

const cfg = loadOrExit(parseReddbServerConfig);
const log = createLogger("reddb", cfg.logLevel);
mkdirSync(cfg.dataDir, { recursive: true });
const store = new ReddbStore(cfg.dataDir);
const server = createReddbServer(store, cfg.token, log);

server.on("error", (err) => {
  log.fatal({ err: { message: err.message }, port: cfg.port }, "server error; stopping");
  process.exit(1);
});
server.listen(cfg.port, cfg.host, () => log.info({ host: cfg.host, port: cfg.port, dataDir: cfg.dataDir, auth: cfg.token !== undefined }, "reddb listening"));

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "stopping");
  setTimeout(() => process.exit(1), cfg.shutdownTimeoutMs).unref();
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeIdleConnections();
  await closed;
  await store.close();
  log.info("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
